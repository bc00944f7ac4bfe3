#include "telemetry/export_queue.h"

namespace tollway::telemetry {

// The one instantiation the gateway uses, compiled once here.
template class BoundedQueue<Span>;

}  // namespace tollway::telemetry
