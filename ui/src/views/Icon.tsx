/** Small inline icons (no icon font, nothing fetched). Always paired with
 * words: state is never shown by colour or shape alone. */
export type IconName =
  | "check"
  | "upload"
  | "pause"
  | "play"
  | "warning"
  | "person"
  | "offline"
  | "clock"
  | "x"
  | "refresh"
  | "link"
  | "stop";

const PATHS: Record<IconName, string> = {
  check: "M4 12.5l5 5L20 6.5",
  upload: "M12 19V6M6.5 11.5L12 6l5.5 5.5M5 21h14",
  pause: "M8 5v14M16 5v14",
  play: "M7 5l12 7-12 7z",
  warning: "M12 3l10 18H2zM12 10v5M12 18v.5",
  person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c1-4 4.5-6 8-6s7 2 8 6",
  offline: "M3 3l18 18M8.5 8.7A6 6 0 0 0 6 19h11M12 6a6 6 0 0 1 6 6 4 4 0 0 1 1.6 6.2",
  clock: "M12 7v5l3 2M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z",
  x: "M6 6l12 12M18 6L6 18",
  refresh: "M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  stop: "M6 6h12v12H6z",
};

export function Icon({ name, label }: { name: IconName; label?: string }) {
  return (
    <svg
      className={`icon icon-${name}`}
      viewBox="0 0 24 24"
      width="1em"
      height="1em"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
