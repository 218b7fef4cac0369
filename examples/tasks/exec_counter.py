#!/usr/bin/env python3
"""A corral `exec` task in Python: counts by settings["step"] every settings["interval_s"].

The daemon writes JSON lines to stdin ({"type": "start"|"settings"|"stop", ...}); this task
writes status, signals and log lines as JSON lines to stdout. Run it under corral with:
  corral task create pycount exec --args '{"command": ["python3", "examples/tasks/exec_counter.py"]}'
"""
import json
import sys
import threading

settings = {"step": 1, "interval_s": 0.05}
stop = threading.Event()
changed = threading.Event()
lock = threading.Lock()


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def read_commands():
    for line in sys.stdin:
        message = json.loads(line)
        if message["type"] in ("start", "settings"):
            with lock:
                settings.update(message.get("settings") or {})
            changed.set()
        elif message["type"] == "stop":
            stop.set()
            changed.set()
    stop.set()  # stdin closed: the daemon is gone
    changed.set()


threading.Thread(target=read_commands, daemon=True).start()
count = 0
send({"type": "log", "message": "python counter started"})
while not stop.is_set():
    with lock:
        step, interval = settings["step"], settings["interval_s"]
    count += step
    send({"type": "status", "status": {"count": count, "step": step, "language": "python"}})
    send({"type": "signal", "name": "tick", "payload": count})
    changed.wait(interval)
    changed.clear()
send({"type": "log", "message": f"stopped at {count}"})
