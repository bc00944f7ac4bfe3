#include "telemetry/export_queue.h"

#include "telemetry/request_record.h"

namespace tollway::telemetry {

// The one instantiation the gateway uses (finished requests' records), compiled once here.
template class BoundedQueue<RequestRecord>;

}  // namespace tollway::telemetry
