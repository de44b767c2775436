#!/usr/bin/python3
"""Chooses a folder in an application's open GTK file chooser through the
accessibility bus (AT-SPI), the way a person does with the keyboard: Ctrl+L
for the location field, the path typed there, Open pressed. The app's
end-to-end test uses it for the native folder picker, which is outside the
webview WebDriver reaches.

usage: gtk-pick-folder.py APP_NAME FOLDER [TIMEOUT_SECS]

Needs Debian's python3-gi and gir1.2-atspi-2.0 (scripts/setup.sh installs
them), xdotool, and the app running with its accessibility bridge (GTK's
default).
"""
import subprocess
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402


def role(node):
    try:
        return node.get_role_name()
    except Exception:
        return ""


def name(node):
    try:
        return node.get_name() or ""
    except Exception:
        return ""


def showing(node):
    try:
        return node.get_state_set().contains(Atspi.StateType.SHOWING)
    except Exception:
        return False


def walk(node, depth=0, limit=40):
    if node is None or depth > limit:
        return
    yield depth, node
    try:
        count = node.get_child_count()
    except Exception:
        return
    for i in range(count):
        try:
            child = node.get_child_at_index(i)
        except Exception:
            continue
        yield from walk(child, depth + 1, limit)


def dump(node):
    for depth, n in walk(node):
        mark = " (showing)" if showing(n) else ""
        print("  " * depth + f"{role(n)}: {name(n)!r}{mark}", file=sys.stderr)


def applications():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is not None:
            yield app


def find_chooser(app_name):
    for app in applications():
        if app_name not in name(app):
            continue
        for _, node in walk(app, limit=3):
            if role(node) == "file chooser" and showing(node):
                return node
    return None


def first(dialog, wanted):
    for _, node in walk(dialog):
        if showing(node) and wanted(node):
            return node
    return None


def location_field(dialog):
    # Only the chooser's own location field shows; the create-folder and
    # rename pop-overs' fields are hidden unless open.
    return first(dialog, lambda n: role(n) == "text")


def closed(dialog):
    try:
        return not showing(dialog)
    except Exception:
        return True  # gone from the bus


def fail(dialog, why):
    if dialog is not None:
        dump(dialog)
    sys.exit(why)


def main():
    app_name, folder = sys.argv[1], sys.argv[2]
    deadline = time.time() + (float(sys.argv[3]) if len(sys.argv) > 3 else 20)

    dialog = None
    while dialog is None and time.time() < deadline:
        dialog = find_chooser(app_name)
        if dialog is None:
            time.sleep(0.25)
    if dialog is None:
        apps = [name(a) for a in applications()]
        fail(None, f"no file chooser open in {app_name!r} (applications on the bus: {apps})")

    field = location_field(dialog)
    if field is None:
        # With no window manager (Xvfb) the dialog does not get the keyboard
        # by itself: focus its window, then Ctrl+L as a person would.
        subprocess.run(
            ["xdotool", "search", "--sync", "--name", name(dialog), "windowfocus", "--sync"],
            check=False,
            timeout=10,
        )
        subprocess.run(["xdotool", "key", "--clearmodifiers", "ctrl+l"], check=False, timeout=10)
    while field is None and time.time() < deadline:
        time.sleep(0.1)
        field = location_field(dialog)
    if field is None:
        fail(dialog, "the file chooser shows no location field after Ctrl+L")
    Atspi.EditableText.set_text_contents(field, folder)

    accept = first(dialog, lambda n: role(n) == "push button" and name(n) in ("Open", "Select"))
    if accept is None:
        fail(dialog, "the file chooser has no Open or Select button")
    if not accept.get_state_set().contains(Atspi.StateType.SENSITIVE):
        fail(dialog, f"the file chooser's {name(accept)} button is disabled with {folder!r} typed")
    Atspi.Action.do_action(accept, 0)
    while time.time() < deadline:
        if closed(dialog):
            return
        time.sleep(0.1)
    fail(dialog, f"the file chooser is still open after {name(accept)} was pressed")


main()
