#!/usr/bin/env python3
"""(Re)starts a program, follows its logs for a few seconds, then runs a task and streams its
status. Against the built-in example (`npx corral server` in this checkout):
    python3 examples/python/follow_and_watch.py [ADDRESS]     (pip install ./client/python first)
"""
import os
import sys
import threading

import corral_client

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "..", "tasks", "exec_counter.py")

with corral_client.connect(sys.argv[1] if len(sys.argv) > 1 else None) as corral:
    ticker = corral.restart("ticker")  # (re)start: the built-in example autostarts it
    print(f"ticker is {corral_client.ProcessState.Name(ticker.state)}, pid {ticker.run.pid}")

    logs = corral.follow_logs("ticker", tail_lines=2)
    threading.Timer(3.0, logs.cancel).start()  # follow for 3 s
    for response in logs:
        sys.stdout.write("  log: " + response.chunk.data.decode(errors="replace"))

    command = {"command": [sys.executable, os.path.abspath(COUNTER)]}
    task = corral.create_task("py-example", "exec", args=command, settings={"step": 1, "interval_s": 0.5})
    try:
        with task.lock():  # nobody else steers it while we do
            with task.watch(names=["status_updated"], live_only=True) as statuses:
                task.start()
                for n, item in enumerate(statuses):
                    print("  status:", corral_client.from_value(item.signal.payload))
                    if n == 3:
                        task.set_settings({"step": 10, "interval_s": 0.5})
                    if n == 7:
                        break
            task.stop()
            info = task.join(timeout=10)
            print("task ended:", corral_client.TaskState.Name(info.state))
    finally:
        task.remove()
