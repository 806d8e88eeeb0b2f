// A real run's detections, scored by COCO's rules: `focal eval --coco-results` on a COCO
// conversion of the VOC sample's val split equals the Python reference
// (tests/detector/coco_eval_reference.py --score) on the results file it wrote, and the same
// run scored on the VOC original and on a YOLO conversion gives the same figures (the formats
// agree on boxes and ignore regions); `focal inspect` counts the same on all three. The run
// itself trains on the COCO copy. Skipped when the VOC sample (../shared/data/VOCdevkit) or
// python3 with numpy is absent.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_focal.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using focal::test::kFocal;
using focal::test::shell;

json read_json(const fs::path& path) { return json::parse(focal::test::read_text(path)); }

}  // namespace

TEST_CASE("focal eval's COCO figures equal the Python reference on a real run's results (VOC sample as COCO)") {
    const focal::test::ReferenceInputs in = focal::test::reference_inputs("test_coco_eval");
    if (!in.absent.empty()) {
        MESSAGE("skipped: " << in.absent << " is absent");
        return;
    }
    const fs::path &voc = in.voc, &dir = in.dir;
    const std::string& python = in.python;
    const std::string log = " >> " + (dir / "log.txt").string() + " 2>&1";
    REQUIRE(shell(kFocal + " convert --data " + voc.string() + " --split val --to coco --out " +
                  (dir / "coco").string() + log) == 0);
    REQUIRE(shell(kFocal + " convert --data " + (dir / "coco").string() + " --split val --to yolo --out " +
                  (dir / "yolo").string() + log) == 0);
    // `focal inspect` counts the same on the three (its --json figures), and fits anchors the same.
    std::vector<json> counts;
    for (const auto& [data, format] : {std::pair{voc, std::string("voc")}, std::pair{dir / "coco", std::string("coco")},
                                       std::pair{dir / "yolo", std::string("yolo")}}) {
        const fs::path out = dir / ("inspect-" + format + ".json");
        REQUIRE(shell(kFocal + " inspect --data " + data.string() + " --format " + format +
                      " --split val --anchors --json " + out.string() + log) == 0);
        const json j = read_json(out);
        CHECK(j.at("format") == format);
        counts.push_back({j.at("images"), j.at("objects"), j.at("per_class"), j.at("per_class_difficult"),
                          j.at("box_size_quantiles"), j.at("classes"), j.at("anchor_fit")});
        CHECK(j.at("anchor_fit").at("unsized_images") == 0);
        CHECK(j.at("anchor_fit").at("candidates").size() == 7);  // 2 .. 6, the preset's 4 among them
    }
    CHECK(counts[1] == counts[0]);
    CHECK(counts[2] == counts[0]);

    // An untrained model without the prior bias: 100 detections an image, many overlapping objects.
    const fs::path run = dir / "run";
    REQUIRE(shell(kFocal + " train --data " + (dir / "coco").string() + " --split val --val-split '' --preset demo" +
                  " --no-prior --epochs 1 --max-iters 1 --max-images 8 --lr 1e-8 --workers 0 --quiet --out " +
                  run.string() + log) == 0);
    CHECK(read_json(run / "config.json").dump().find("\"format\":\"\"") != std::string::npos);

    const int images = 40;
    const auto eval = [&](const fs::path& data, const std::string& results) {
        REQUIRE(shell(kFocal + " eval --run " + run.string() + " --data " + data.string() +
                      " --split val --max-images " + std::to_string(images) +
                      (results.empty() ? "" : " --coco-results " + results) + log) == 0);
        return read_json(run / "metrics.json").at("coco");
    };
    const json coco = eval(dir / "coco", (dir / "results.json").string());
    REQUIRE(shell(python + " " + (fs::path(FOCAL_SOURCE_DIR) / "tests/detector/coco_eval_reference.py").string() +
                  " --score " + (dir / "coco/annotations/instances_val.json").string() + " " +
                  (dir / "results.json").string() + " " + std::to_string(images) + " > " +
                  (dir / "reference.json").string()) == 0);
    const json reference = read_json(dir / "reference.json");
    const char* keys[] = {"ap",  "ap50", "ap75",  "ap_small", "ap_medium", "ap_large",
                          "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large"};
    int nonzero = 0;
    for (int i = 0; i < 12; ++i) {
        CAPTURE(keys[i]);
        const double theirs = reference.at("stats")[std::size_t(i)].get<double>();
        CHECK(std::abs(coco.at(keys[i]).get<double>() - theirs) <= 1e-6);
        nonzero += theirs > 0;
    }
    CHECK(nonzero >= 3);  // not a comparison of zeros alone
    for (const auto& [name, ap] : reference.at("per_class_ap").items())
        CHECK(std::abs(coco.at("per_class_ap").at(name).get<double>() - ap.get<double>()) <= 1e-6);

    // The same images as VOC and as YOLO: the same figures.
    for (const fs::path& data : {voc, dir / "yolo"}) {
        CAPTURE(data.string());
        const json other = eval(data, "");
        for (const char* key : keys) CHECK(std::abs(other.at(key).get<double>() - coco.at(key).get<double>()) <= 1e-9);
    }
}
