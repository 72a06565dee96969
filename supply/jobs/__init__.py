"""Work that runs longer than a request: each run recorded with its steps as they happen, so a
page (on any server process) can show the progress and the outcome."""
