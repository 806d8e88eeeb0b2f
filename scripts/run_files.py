"""Helpers shared by the comparison scripts (voc_losses.py, voc_recipe.py): run a focal
command into a log, read and write files atomically, mean and sample std."""
import csv
import json
import os
import statistics
import subprocess


def run_command(command, log_path, who):
    """Runs a focal command, its output appended to log_path; stops naming the command."""
    with open(log_path, "a") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        status = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    if status != 0:
        raise SystemExit(f"{who}: '{' '.join(command)}' failed with status {status}; see {log_path}")


def read_json(path, who):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"{who}: cannot read {path}: {e}")


def read_json_lines(path, who):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        raise SystemExit(f"{who}: cannot read {path}: {e}")


def write_atomically(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def write_csv(path, header, rows):
    temporary = path + ".tmp"
    with open(temporary, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(temporary, path)


def mean_std(values):
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
