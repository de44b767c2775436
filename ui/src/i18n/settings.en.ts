import type { Settings } from "../bindings/Settings";

/** A section of the settings file (`[watch]`, `[ui]`…). */
export type SettingsSection = Exclude<keyof Settings, "version">;

/** Every dotted key of the settings (`watch.root`, `ui.language`…). */
export type SettingKey = {
  [S in SettingsSection]: `${S}.${keyof Settings[S] & string}`;
}[SettingsSection];

/** A field's label and its one-line help (from config/default.toml). */
export interface FieldText {
  label: string;
  help: string;
}

/** Each key's label and help; a key missing here does not compile. */
const fields = {
  "watch.root": {
    label: "Watched folder (BY_SHOT)",
    help: "The BY_SHOT folder of the LucidLink filespace, as mounted on this machine. Empty: not set yet. The variable LUCIDLINK_BY_SHOT_PATH overrides it.",
  },
  "watch.extensions": {
    label: "Extensions to upload",
    help: "Extensions that are uploaded, separated by commas (case-insensitive, without the dot).",
  },
  "watch.readiness_window_secs": {
    label: "Quiet time before a file counts as finished (seconds)",
    help: "A file's size and modification time must stay unchanged this long (LucidLink shows files before all their bytes arrive).",
  },
  "watch.rescan_interval_secs": {
    label: "Full rescan every (seconds)",
    help: "Files written by other workstations raise no file-system events on a LucidLink mount: rescans are what find them.",
  },
  "nomenclature.structure_root": {
    label: "Scenes folder in Frame.io",
    help: "Folder under the Frame.io project root that holds the SCENE/SHOT folders. Empty puts the scene folders directly at the project root.",
  },
  "nomenclature.use_builtin_patterns": {
    label: "Also try the built-in patterns",
    help: "After your own: sc_shot (SC01_UNDLM_00412_V002) and titled (TITLE_S01_V001). Off: only your own patterns are used.",
  },
  "nomenclature.patterns": {
    label: "Your patterns",
    help: "Tried first, in order. Each is a regular expression (Rust regex syntax) with the named groups scene, shot and version; it must match the whole file name without its extension, case-insensitively. The version must be digits (12 or v12).",
  },
  "frameio.api_base_url": {
    label: "Frame.io API address",
    help: "Frame.io V4 API. Change it only to point at a local emulator for tests.",
  },
  "frameio.ims_base_url": {
    label: "Adobe sign-in address (IMS)",
    help: "Adobe IMS, where PostFlow signs in.",
  },
  "frameio.client_id": {
    label: "Client id",
    help: "OAuth client id of your organisation’s Adobe credential (public client, PKCE).",
  },
  "frameio.redirect_uri": {
    label: "Redirect URI",
    help: "Where the browser comes back after sign-in: a loopback URL, or the custom scheme Adobe assigns to Native App credentials (adobe+…://…).",
  },
  "frameio.account_id": {
    label: "Account id",
    help: "Frame.io id (UUID), filled in when you pick a project. The variable FRAMEIO_ACCOUNT_ID overrides it.",
  },
  "frameio.workspace_id": {
    label: "Workspace id",
    help: "Frame.io id (UUID), filled in when you pick a project. The variable FRAMEIO_WORKSPACE_ID overrides it.",
  },
  "frameio.project_id": {
    label: "Project id",
    help: "Frame.io id (UUID) of the project uploads go to, filled in when you pick a project.",
  },
  "discord.enabled": {
    label: "Post to the team’s Discord channel",
    help: "A message for each upload. The webhook itself is kept in the OS keychain, never in the settings file.",
  },
  "discord.language": {
    label: "Language of the messages",
    help: "The language the Discord messages are written in.",
  },
  "discord.batching_window_secs": {
    label: "Group uploads finishing within (seconds)",
    help: "Uploads finishing within this many seconds go out as one message (0: each at once).",
  },
  "discord.mention": {
    label: "Who to ping when something needs a person",
    help: "<@USER_ID> for a person, <@&ROLE_ID> for a role, or empty for nobody.",
  },
  "transfers.parallel_files": {
    label: "Files uploaded at the same time",
    help: "How many files go up at once.",
  },
  "transfers.parallel_parts": {
    label: "Parts of one file uploaded at the same time",
    help: "Frame.io chooses the part sizes.",
  },
  "transfers.bandwidth_limit_mbps": {
    label: "Bandwidth cap (megabits per second)",
    help: "Shared by all uploads; 0 means no cap.",
  },
  "transfers.bandwidth_timetable": {
    label: "Bandwidth timetable",
    help: "The cap by time of day, like rclone's --bwlimit: entries HH:MM,RATE separated by spaces, each holding until the next. RATE is off (no cap) or bytes per second with k, M or G: 20M = 20 MiB/s, about 168 Mbit/s. Mon-08:00,20M limits an entry to one day. Example: 08:00,20M 19:00,off. Empty: the cap above all day; when set, it replaces that cap.",
  },
  "transfers.max_attempts": {
    label: "Attempts before a file needs you",
    help: "A file that keeps failing is tried this many times, then shown as failed. Errors that retrying cannot mend stop at once; waiting for Frame.io or the filespace spends no attempt.",
  },
  "transfers.retry_base_secs": {
    label: "First retry after (seconds)",
    help: "Each next retry waits twice as long, at most an hour.",
  },
  "transfers.stack_versions": {
    label: "Stack versions in Frame.io",
    help: "A new version of a shot is stacked onto its previous version. Off: each version is a separate file in the shot folder.",
  },
  "transfers.takeover_after_secs": {
    label: "Take over another workstation's upload after (seconds)",
    help: "When another workstation is uploading the same render and shows no sign of life for this long (it crashed or lost its connection), this one uploads it. A slow upload is never taken over.",
  },
  "notifications.enabled": {
    label: "Desktop notifications",
    help: "Notifications on this workstation.",
  },
  "notifications.on_upload": {
    label: "When a file has landed in Frame.io",
    help: "A notification for each upload that is done.",
  },
  "notifications.on_failure": {
    label: "When something needs you",
    help: "A file that keeps failing, a sign-in that expired.",
  },
  "ui.language": {
    label: "Language of the app",
    help: "The whole window switches once saved.",
  },
  "ui.start_at_login": {
    label: "Start PostFlow when you log in",
    help: "PostFlow starts with your session.",
  },
  "ui.start_minimized": {
    label: "Start in the tray only",
    help: "Without opening the window.",
  },
  "ui.listen": {
    label: "Web UI address",
    help: "Serve the web UI and its API on this address, e.g. 127.0.0.1:8484; empty: not served. Loopback only, unless the option below is on.",
  },
  "ui.allow_remote": {
    label: "Let other machines reach the web UI",
    help: "The web UI address may then be reachable from the network; the UI asks for its key (the command postflow gui-url prints a link that carries it).",
  },
  "ui.tray_icons": {
    label: "Tray icon",
    help: "In colour, or a single colour that suits a light or a dark panel. Each state has its own shape either way.",
  },
} satisfies Record<SettingKey, FieldText>;

/** The strings of the Settings and Health views, in English
 * (`settings.fr.ts` must have each one). */
export const settingsEn = {
  trayColor: "In colour",
  trayLight: "Dark, for a light panel",
  trayDark: "Light, for a dark panel",
  /** After a label ("Fix:"; in French with a no-break space). */
  colon: ":",
  settingsTitle: "Settings",
  healthTitle: "Health",
  fields: fields as Record<SettingKey, FieldText>,

  // Sections and their fieldsets.
  sectionsNav: "Sections of the settings",
  secWatch: "Watched folder",
  secNomenclature: "Naming rule",
  secFrameio: "Frame.io",
  secDiscord: "Discord",
  secTransfers: "Transfers",
  secNotifications: "Notifications",
  secGeneral: "General",
  fsWatchWhere: "Where renders land",
  fsWatchWhen: "When a render is finished",
  fsFolders: "Folders in Frame.io",
  fsPatterns: "Patterns",
  fsTester: "Name tester",
  fsSignIn: "Sign-in",
  fsProject: "Project",
  fsConnection: "Connection",
  fsIds: "Frame.io ids",
  fsChannel: "Channel",
  fsMessages: "Messages",
  fsSpeed: "Speed",
  fsRetries: "Retries and versions",
  fsDesktop: "This workstation",
  fsLanguage: "Language",
  fsStartup: "Start-up",
  fsWeb: "Web access",
  fsFile: "Settings file",

  // The whole form.
  settingsFile: "Settings file",
  fileVersion: "File format version",
  fileVersionHelp: "Older formats are migrated when read; not editable.",
  fileProblems: "Problems in the settings file",
  fromEnvironment: "Set by an environment variable: read-only here.",
  changed: "changed",
  problemLabel: "Problem",
  fixLabel: "Fix",
  save: "Save",
  saving: "Saving…",
  saved: "Saved",
  revert: "Revert",
  noChanges: "No unsaved changes.",
  unsavedChanges: (n: number) => (n === 1 ? "1 unsaved change:" : `${n} unsaved changes:`),
  refusedTitle: "The settings were not saved",
  refusedIntro: (n: number) =>
    n === 1 ? "1 setting needs fixing; nothing was changed." : `${n} settings need fixing; nothing was changed.`,
  goToField: (key: string) => `Go to ${key}`,
  notANumber: "Enter a whole number (0 or more).",
  notANumberFix: "Type digits only, e.g. 30.",
  loadFailed: "The settings could not be read",
  tryAgain: "Try again",

  // Watch.
  browse: "Browse…",
  browseLabel: "Choose the watched folder",

  // Patterns and the tester.
  patternsEmpty: "No pattern of your own: only the built-in ones are used.",
  patternNumber: (n: number) => `Pattern ${n}`,
  patternName: "Name",
  patternRegex: "Regular expression",
  addPattern: "Add a pattern",
  removePattern: (n: number) => `Remove pattern ${n}`,
  moveUp: (n: number) => `Move pattern ${n} up`,
  moveDown: (n: number) => `Move pattern ${n} down`,
  remove: "Remove",
  up: "Up",
  down: "Down",
  testerHelp:
    "Type file names, one per line. PostFlow tests them with the settings as edited here (saved or not), exactly as it will read them.",
  testerNames: "Names to test",
  testerFolder: "Also test the files now in BY_SHOT",
  testerBusy: "Testing…",
  testerSummary: (tested: number, parsed: number) =>
    tested === 0
      ? "No name to test."
      : `${tested === 1 ? "1 name" : `${tested} names`} tested: ${parsed} recognized, ${tested - parsed} not.`,
  testerFolderSummary: (n: number, parsed: number) =>
    n === 0 ? "No file in BY_SHOT." : `${n === 1 ? "1 file" : `${n} files`} in BY_SHOT: ${parsed} recognized.`,
  testerTyped: "Names you typed",
  testerFolderTitle: "Files now in BY_SHOT",
  testerFolderError: "BY_SHOT could not be read",
  testerPatternProblems: "These patterns are wrong; names were tested without them",
  testerFailed: "The names could not be tested",
  colName: "Name",
  colResult: "Result",
  colScene: "Scene",
  colShot: "Shot",
  colVersion: "Version",
  colWhere: "Frame.io path, or why not",
  resultParsed: "Recognized",
  resultIgnored: "Ignored",
  resultUnsupported: "Not uploaded (type)",
  resultUnrecognized: "Not recognized",
  byPattern: (name: string) => `by ${name}`,
  moreFiles: (n: number) => `Only the first ${n} files are shown.`,

  // Frame.io.
  fioSignedInAs: (who: string) => `Signed in as ${who}`,
  signedInUnknown: "Signed in",
  notSignedIn: "Not signed in to Frame.io",
  signIn: "Sign in to Frame.io",
  signInOther: "Sign in with another account",
  signOut: "Sign out",
  browserOpened: "Your browser opened the Frame.io sign-in page. Finish there: this page updates by itself.",
  openSignInAgain: "Open the sign-in page again",
  uploadsGoTo: "Uploads go to",
  noProjectYet: "no project chosen yet",
  loadProjects: "Load my projects",
  projectsNeedSignIn: "Sign in first to list your projects.",
  loadingProjects: "Loading projects…",
  noProjects: "This Frame.io user has no project to upload to.",
  account: "Account",
  workspace: "Workspace",
  projectLabel: "Project",
  useProject: "Upload to this project",
  projectChosen: (name: string) => `Uploads now go to ${name}.`,
  projectInForm:
    "The project is set in the form; fix the other problems shown, then Save.",
  advanced: "Advanced",
  problemCount: (n: number) => (n === 1 ? "1 problem" : `${n} problems`),
  signInNeedsSave: "Save the Frame.io settings first: sign-in uses the saved ones.",
  secretsFromEnv: "No keychain on this machine: secrets come from environment variables.",

  // Discord.
  webhook: "Webhook",
  webhookStored: "Stored webhook",
  webhookNone: "No webhook stored.",
  webhookNew: "New webhook URL",
  webhookNewHelp: "Paste it from Discord (channel settings → Integrations → Webhooks). It goes to the keychain, never to the settings file.",
  webhookFromEnv:
    "No keychain on this machine: the webhook comes from the variable POSTFLOW_DISCORD_WEBHOOK_URL (or DISCORD_WEBHOOK_URL) and cannot be changed here.",
  storeWebhook: "Store webhook",
  webhookSaved: "Webhook stored.",
  removeWebhook: "Remove",
  webhookRemoved: "Webhook removed.",
  sendTest: "Send test message",
  sendingTest: "Sending…",
  testOk: "Sent",
  testFailed: "Failed",
  testUsesSaved: "The test uses the saved settings.",
  english: "English",
  french: "Français",

  // Transfers.
  noCap: "No cap",
  capAbout: (mbps: number, mbs: string) => `${mbps} Mbit/s, about ${mbs} per second`,
  timetableExample: "08:00,20M 19:00,off",

  // Health.
  healthScore: "Score",
  healthGood: "Good",
  healthLook: "Needs a look",
  healthBad: "Bad",
  healthUpdated: (when: string) => `Updated at ${when}; refreshed every 5 seconds.`,
  healthRefresh: "Refresh now",
  healthFailed: "The health could not be read",
  costs: "What costs points",
  costsNone: "Nothing: every check passes.",
  service: "Service",
  serviceState: "State",
  running: "Running",
  notRunning: "Not running",
  pid: "Process id",
  uptime: "Up for",
  cpu: "CPU",
  memory: "Memory",
  runState: "Uploads",
  pausedWord: "Paused",
  runningWord: "Running",
  frameioReach: "Frame.io",
  reachable: "Reachable",
  unreachable: "Unreachable",
  unknown: "Unknown",
  filespace: "Filespace",
  online: "Online",
  offline: "Offline",
  needingAction: "Failed, needing action",
  queue: "Queue",
  queueEmpty: "The queue is empty.",
  colStatus: "Status",
  colFiles: "Files",
  total: "Total",
  lastHour: "Last hour",
  processed: "Processed",
  uploaded: "Uploaded",
  errors: "Errors",
  lastUpload: "Last upload",
  never: "none yet",
  watched: "Watched folder",
  notSet: "not set",
  diskFree: "Free space",
  diskOf: (free: string, total: string, pct: number) => `${free} free of ${total} (${pct} %)`,
  diskUnknown: "unknown",
  diskLow: "less than 5 % free",
  discordEnabled: "Posting",
  enabled: "On",
  disabled: "Off",
  pending: "Waiting to be sent",
  sent: "Sent",
  discordProblem: "Problem",
  noneWord: "none",
};

export type SettingsMessages = typeof settingsEn;
