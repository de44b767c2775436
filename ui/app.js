// PostFlow's window: reads status from the Rust core through IPC commands and
// follows its events. No framework: the page is small on purpose for now.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);

function showState(state) {
  $("state").textContent = state === "paused" ? "Paused" : "Watching";
  $("state").dataset.state = state;
  $("toggle").textContent = state === "paused" ? "Resume" : "Pause";
  $("toggle").disabled = false;
}

function showProblems(problems) {
  const list = $("problems");
  list.replaceChildren(
    ...problems.map((p) => {
      const li = document.createElement("li");
      const key = document.createElement("code");
      key.textContent = p.key;
      const fix = document.createElement("div");
      fix.className = "fix";
      fix.textContent = "Fix: " + p.fix;
      li.append(key, ": " + p.message, fix);
      return li;
    }),
  );
  $("settings-ok").hidden = problems.length > 0;
}

async function refresh() {
  const status = await invoke("get_status");
  $("version").textContent = status.version;
  $("settings-file").textContent = status.settings_file;
  showState(status.state);
  showProblems(status.problems);
}

$("toggle").addEventListener("click", async () => {
  const paused = $("state").dataset.state === "paused";
  showState(await invoke(paused ? "resume" : "pause"));
});

listen("postflow://event", (event) => {
  if (event.payload.type === "run_state_changed") showState(event.payload.state);
});

refresh();
