// libFuzzer target for the YOLO label parser and the data.yaml subset reader (data/yolo.h).
// Any input must either throw focal::Error or give finite, non-empty boxes inside the image;
// labels written back must read back to the same boxes.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/yolo.h"
#include "engine/error.h"

using namespace focal::data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        parse_yaml_subset(text, "fuzz.yaml");
    } catch (const focal::Error&) {}
    const std::vector<std::string> names = {"a", "b", "c"};
    constexpr int kWidth = 640, kHeight = 480;
    for (const bool skip : {false, true}) {
        std::vector<std::string> skipped;
        std::vector<Object> objects;
        try {
            objects = parse_yolo_labels(text, "fuzz.txt", names, kWidth, kHeight, skip ? &skipped : nullptr);
        } catch (const focal::Error&) {
            continue;
        }
        for (Object& o : objects) {
            const Box& b = o.box;
            if (!std::isfinite(b.x1) || !std::isfinite(b.x2) || !std::isfinite(b.y1) || !std::isfinite(b.y2))
                __builtin_trap();
            if (!b.valid() || b.x1 < 0 || b.y1 < 0 || b.x2 > kWidth || b.y2 > kHeight) __builtin_trap();
            for (std::size_t k = 0; k < names.size(); ++k)
                if (names[k] == o.name) o.label = int(k);
        }
        std::vector<Object> back;
        try {
            back = parse_yolo_labels(write_yolo_labels(objects, kWidth, kHeight), "w.txt", names, kWidth, kHeight);
        } catch (const focal::Error&) {
            // A box under the text's resolution (1e-8 of the side) may come back empty.
            bool thin = false;
            for (const Object& o : objects) thin = thin || o.box.width() < 1e-3f || o.box.height() < 1e-3f;
            if (!thin) __builtin_trap();
            continue;
        }
        if (back.size() != objects.size()) __builtin_trap();
        for (std::size_t i = 0; i < back.size(); ++i) {
            const Box &a = objects[i].box, &b = back[i].box;
            const float tolerance = 1e-2f;  // 8 decimals of 640 px, then a snap of at most 2e-3 px
            if (std::fabs(a.x1 - b.x1) > tolerance || std::fabs(a.y1 - b.y1) > tolerance ||
                std::fabs(a.x2 - b.x2) > tolerance || std::fabs(a.y2 - b.y2) > tolerance ||
                back[i].name != objects[i].name)
                __builtin_trap();
        }
    }
    return 0;
}
