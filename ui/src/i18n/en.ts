import type { StatusKind } from "../bindings/StatusKind";

/** Every string of the window (but the settings and health views, see
 * `settings.en.ts`), in English. `fr.ts` must have each one. */
export const en = {
  appName: "PostFlow",
  skipToContent: "Skip to the board",
  navBoard: "Shot board",
  navSettings: "Settings",
  navHealth: "Health",
  mainNav: "Views",
  demoBanner: "Demo: PostFlow runs on its built-in Frame.io emulator with sample renders. Nothing leaves this machine.",
  disconnected: "Connection to PostFlow lost; reconnecting…",
  loading: "Loading…",
  pause: "Pause",
  resume: "Resume",
  rescan: "Rescan now",
  rescanDone: "BY_SHOT is being rescanned.",
  project: (name: string) => `Project: ${name}`,
  noProject: "no project chosen",
  signedInAs: (who: string) => `Signed in as ${who}`,

  // The header's state (never colour alone: an icon and words).
  stateNotSetUp: "Not set up",
  stateNotSetUpDetail: "Finish the settings to start watching BY_SHOT.",
  stateSignedOut: "Signed out of Frame.io",
  stateSignedOutDetail: "Sign in to Frame.io in Settings to upload.",
  stateNeedsYou: "Needs you",
  stateOfflineFilespace: "Filespace offline",
  stateOfflineFrameio: "Frame.io unreachable",
  stateOfflineDetail: "Uploads wait; nothing is lost and no attempt is spent.",
  statePaused: "Paused",
  statePausedUntil: (d: Date) => `Paused until ${d.toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit" })}`,
  statePausedDetail: "No new upload starts until you resume.",
  stateUploading: (active: number, queued: number) =>
    queued > 0 ? `Uploading ${active} · ${queued} queued` : `Uploading ${active}`,
  stateAttention: (n: number) => (n === 1 ? "1 file needs attention" : `${n} files need attention`),
  stateAttentionDetail: (failed: number, held: number) =>
    [failed > 0 ? `${failed} failed` : "", held > 0 ? `${held} name(s) not recognized` : ""]
      .filter(Boolean)
      .join(" · "),
  stateWatching: "Watching BY_SHOT",
  stateWatchingDetail: "New renders are uploaded once they are complete.",
  stateStopped: "Not running",
  health: (score: number) => `Health ${score}/100`,
  // The upload cap ("Capped at 20 MiB/s until 19:00, then no cap").
  bwCapped: (rate: string) => `Capped at ${rate}`,
  bwNoCap: "No bandwidth cap",
  bwNextNoCap: "no cap",
  bwUntil: (now: string, when: string, next: string) => `${now} until ${when}, then ${next}`,
  bwUnits: ["KiB/s", "MiB/s", "GiB/s"] as readonly string[],

  // Attention.
  attentionTitle: "Needs attention",
  attentionEmpty: "Nothing needs you.",
  retry: "Retry",
  retryAllFailed: (n: number) => `Retry all failed (${n})`,
  retryScene: (scene: string) => `Retry all in ${scene}`,
  testThisName: "Test this name",
  openInFrameio: "Open in Frame.io",
  details: "Details",
  cancel: "Cancel",
  cancelItem: "Don't upload",
  heldCause: "The name does not follow the naming rule.",
  failedCause: "The upload failed.",
  retriesBy: (when: string) => `PostFlow tries again by itself at ${when}.`,
  gaveUp: (attempts: number) => `PostFlow gave up after ${attempts} attempt(s).`,
  signInAgain: "Sign in again",
  finishSetup: "Finish the settings",

  // Board.
  boardTitle: "Shot board",
  filter: "Show",
  filterAll: "All",
  filterActive: "In progress",
  filterAttention: "Needs attention",
  filterDone: "In Frame.io",
  filterCancelled: "Cancelled",
  search: "Search file names",
  searchPlaceholder: "SC01, UNDLM_00412, V002…",
  emptyBoard: "No render yet. Files rendered into BY_SHOT appear here as soon as PostFlow sees them.",
  emptyFilter: "Nothing matches.",
  noScene: "Names not recognized",
  sceneLabel: (scene: string) => `Scene ${scene}`,
  shots: (n: number) => (n === 1 ? "1 shot" : `${n} shots`),
  versions: (n: number) => (n === 1 ? "1 version" : `${n} versions`),
  inFrameio: (done: number, total: number) => `${done} of ${total} in Frame.io`,
  stage: "Stage",
  uploadedBy: "Uploaded by",
  thisWorkstation: (name: string) => `this workstation (${name})`,
  anotherWorkstation: "another workstation",
  waitingFor: (who: string | null, secs: number) =>
    `Waiting for ${who ?? "another workstation"}’s upload · last sign of life ${secs} s ago`,
  rerender: "re-render",
  progressLabel: (name: string) => `Upload of ${name}`,
  eta: (d: string) => `${d} left`,
  bytesOf: (sent: string, total: string) => `${sent} of ${total}`,
  itemCount: (n: number) => (n === 1 ? "1 file" : `${n} files`),

  // Stages (the stepper).
  stageRendering: "Rendering",
  stageQueued: "Queued",
  stageUploading: "Uploading",
  stageVerifying: "Verifying",
  stageStacked: "Stacked",
  stageTold: "Team told",

  // Item detail.
  detailTitle: (name: string) => `${name}`,
  close: "Close",
  localPath: "On this workstation",
  frameioPath: "In Frame.io",
  size: "Size",
  attempts: "Attempts",
  timeline: "Timeline",
  lastError: "What went wrong",
  whatToDo: "What to do",
  link: "Frame.io link",
  none: "—",

  // Errors.
  errorTitle: "PostFlow could not do that",
  dismiss: "Dismiss",
  done: "Done",
};

export type Messages = typeof en;

export const statusEn: Record<StatusKind, string> = {
  waiting_for_stability: "Waiting for the render to finish",
  queued: "Queued",
  preparing_folders: "Preparing folders",
  uploading: "Uploading",
  deferring: "Waiting for another workstation",
  verifying: "Verifying",
  stacking: "Stacking onto the previous version",
  notifying: "Telling the team",
  done: "Team told",
  already_in_frameio: "Already in Frame.io",
  held: "Held: name not recognized",
  failed: "Failed",
  cancelled: "Cancelled",
};
