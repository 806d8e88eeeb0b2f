// libFuzzer target for the shapes set's marker, focal-shapes.txt: parse_shapes_marker
// (data/shapes_writer.cpp), which `focal experiments` runs to reuse a set and to regenerate
// its scenes (tools/cmd_experiments.cpp, tools/experiment_snapshots.cpp). Any input must
// either throw focal::Error or keep the promise; anything else is a finding. The promise of
// a successful parse: images >= 1 and options that make_shape_scene accepts
// (check_scene_options), so regenerating a scene allocates at most 4096 x 4096 x 3 bytes; and
// the marker written for those options reads back the same.
#include <cstdint>
#include <string>

#include "alloc_bound.h"
#include "data/shapes.h"
#include "engine/error.h"

using namespace focal::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ShapesOptions o;
    try {
        focal::fuzz::AllocationBound bound(size, 0);  // a constant: 1 MiB whatever the input
        o = parse_shapes_marker(text, "focal-shapes.txt");
    } catch (const focal::Error&) {
        return 0;
    }
    if (o.images < 1) __builtin_trap();
    try {
        check_scene_options(o);
        const ShapesOptions back = parse_shapes_marker(shapes_marker_text(o), "written.txt");
        if (back.images != o.images || back.size != o.size || back.seed != o.seed || back.min_object != o.min_object)
            __builtin_trap();
    } catch (const focal::Error&) {
        __builtin_trap();
    }
    return 0;
}
