// A request to stop training cleanly: the command line's SIGTERM / SIGINT handler (a
// cluster's preemption, a Ctrl-C) or a test sets it; the trainer checks it after every step,
// writes a mid-epoch checkpoint and returns (TrainResult::stopped_by).
#pragma once

namespace focal::detector {

void request_stop(int signal);  // async-signal-safe: only stores the signal number
int stop_requested();           // the signal that asked, or 0
void clear_stop_request();

}  // namespace focal::detector
