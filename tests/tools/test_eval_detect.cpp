// `focal eval` and `focal detect` cannot disagree: on genuine, non-square VOC images, the
// per-class AP that `eval` reports equals, to 1e-6, the devkit re-implementation
// (tests/detector/voc_eval_reference.py) run on the detections `detect` wrote for the same
// run and images. Skipped when the VOC sample (../shared/data/VOCdevkit) or python3 with
// numpy is absent.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_focal.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using focal::test::kFocal;
using focal::test::read_text;
using focal::test::shell;

}  // namespace

TEST_CASE("focal eval's per-class AP equals the devkit reference on focal detect's output (VOC sample)") {
    const focal::test::ReferenceInputs in = focal::test::reference_inputs("test_eval_detect");
    if (!in.absent.empty()) {
        MESSAGE("skipped: " << in.absent << " is absent");
        return;
    }
    const fs::path &voc = in.voc, &dir = in.dir;
    const std::string& python = in.python;
    const fs::path run = dir / "run";
    // An untrained model without the prior bias scores every anchor near .5, so every image
    // gets its 100 detections, many at the image borders; lr 1e-8 leaves it untrained.
    REQUIRE(shell(kFocal + " train --data " + voc.string() + " --preset demo --split val --val-split '' --no-prior" +
                  " --epochs 1 --max-iters 1 --max-images 8 --lr 1e-8 --workers 0 --quiet --out " + run.string() +
                  " > " + (dir / "train.log").string() + " 2>&1") == 0);

    const int images = 40;
    REQUIRE(shell(kFocal + " eval --run " + run.string() + " --data " + voc.string() + " --split val --max-images " +
                  std::to_string(images) + " > " + (dir / "eval.log").string() + " 2>&1") == 0);
    const json metrics = json::parse(read_text(run / "metrics.json"));

    std::ifstream split(voc / "VOC2007" / "ImageSets" / "Main" / "val.txt");
    std::string paths;  // the split's first `images` images, as eval scored them
    int listed = 0;
    for (std::string id; listed < images && std::getline(split, id);) {
        if (id.empty()) continue;
        paths += " " + (voc / "VOC2007" / "JPEGImages" / (id + ".jpg")).string();
        ++listed;
    }
    REQUIRE(listed == images);
    REQUIRE(shell(kFocal + " detect --run " + run.string() + paths + " --out " + (dir / "detections").string() + " > " +
                  (dir / "detect.log").string() + " 2>&1") == 0);
    const fs::path reference = fs::path(FOCAL_SOURCE_DIR) / "tests" / "detector" / "voc_eval_reference.py";
    REQUIRE(shell(python + " " + reference.string() + " --score " + voc.string() + " val " + std::to_string(images) +
                  " " + (dir / "detections" / "detections.json").string() + " > " +
                  (dir / "reference.json").string()) == 0);
    const json devkit = json::parse(read_text(dir / "reference.json"));

    int compared = 0, nonzero = 0;
    for (const auto& [name, ours] : metrics.at("per_class").items()) {
        for (const auto& [key, theirs_key] : {std::pair<std::string, std::string>{"ap50_voc07", "ap_11point"},
                                              std::pair<std::string, std::string>{"ap50_area", "ap_area"}}) {
            const json& theirs = devkit.at(theirs_key).at(name);
            const std::string what = name + " " + key;  // clang 14 cannot capture a structured binding
            CAPTURE(what);
            REQUIRE(ours.at(key).is_null() == theirs.is_null());
            if (theirs.is_null()) continue;
            CHECK(std::abs(ours.at(key).get<double>() - theirs.get<double>()) <= 1e-6);
            ++compared;
            nonzero += theirs.get<double>() > 0;
        }
    }
    CHECK(compared >= 20);  // most classes have objects in the first 40 val images
    CHECK(nonzero >= 2);    // and the comparison is not only of zeros
}
