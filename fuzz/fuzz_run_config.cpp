// libFuzzer target for run configurations (detector/run_config.cpp): train_config_from_json
// and retinanet_config_from_json, which read config.json (load_run, `focal experiments`), and
// model_config_for with the input as the `--model` merge patch. The input is JSON text, parsed
// as the callers parse it; text that is not JSON stops there. Each entry point runs on the
// value and, for a config.json, on its "train" and "model" parts. Any value must either throw
// focal::Error or keep the promise; anything else (a JSON library exception, a sanitizer
// report such as an out-of-range float-to-int conversion, a broken promise) is a finding.
// The promise of a successful read: the configuration written back (to_json) reads back the
// same; model_config_for keeps the dataset's class count and the loss's softmax flag.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "alloc_bound.h"
#include "detector/trainer.h"
#include "engine/error.h"

using namespace focal::detector;
using nlohmann::json;

namespace {

void check_part(const json& part) {
    try {
        const json back = to_json(train_config_from_json(part));
        if (to_json(train_config_from_json(back)) != back) __builtin_trap();
    } catch (const focal::Error&) {}
    try {
        const json back = to_json(retinanet_config_from_json(part));
        if (to_json(retinanet_config_from_json(back)) != back) __builtin_trap();
    } catch (const focal::Error&) {}
    for (const char* preset : {"tiny", "demo"}) {
        TrainConfig c;
        c.preset = preset;
        c.model = part;
        const bool softmax = preset[0] == 'd';
        try {
            const RetinaNetConfig m = model_config_for(c, 7, softmax);
            if (m.num_classes != 7 || m.softmax != softmax) __builtin_trap();
            const json back = to_json(m);
            if (to_json(retinanet_config_from_json(back)) != back) __builtin_trap();
        } catch (const focal::Error&) {}
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    focal::fuzz::AllocationBound bound(size, 256);  // the parse and every entry point, together
    const json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;
    check_part(j);
    if (j.is_object())
        for (const char* key : {"train", "model"})
            if (j.contains(key)) check_part(j.at(key));
    return 0;
}
