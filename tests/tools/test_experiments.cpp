// `focal experiments --tiny`: the whole pipeline (data, 19 short runs, snapshots, loss
// analysis, tables, report) in its CI configuration, with its files checked for content,
// not only presence; then a second call, which must reuse every finished run.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/util.h"
#include "run_focal.h"

namespace fs = std::filesystem;

namespace {

using focal::test::kFocal;
using focal::test::read_text;
using focal::test::run_focal;

// A CSV file as rows of named cells (no quoted commas in the columns read here).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), path.string());
    std::vector<std::map<std::string, std::string>> rows;
    std::vector<std::string> header;
    std::string line;
    while (std::getline(in, line)) {
        const std::vector<std::string> cells = focal::split_csv_line(line);
        if (header.empty()) {
            header = cells;
            continue;
        }
        REQUIRE_MESSAGE(cells.size() == header.size(), path.string() << ": " << line);
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < cells.size(); ++i) row[header[i]] = cells[i];
        rows.push_back(row);
    }
    return rows;
}

bool fraction_or_missing(const std::string& cell) {
    if (cell == "-") return true;
    const double v = std::stod(cell);
    return v >= 0.0 && v <= 1.0;
}

bool matplotlib_present() {
    return std::system("/usr/bin/python3 -c 'import matplotlib, numpy, PIL' > /dev/null 2>&1") == 0;
}

}  // namespace

TEST_CASE("focal experiments --tiny writes every figure's data, the tables and the report") {
    REQUIRE_MESSAGE(fs::exists(kFocal), "build the focal binary first (make focal)");
    const fs::path out = fs::temp_directory_path() / ("focal_experiments_" + std::to_string(::getpid()));
    fs::remove_all(out);
    const int status = run_focal("experiments --tiny --threads 2 --out " + out.string(), out.string() + ".log");
    INFO(read_text(out.string() + ".log"));
    REQUIRE(status == 0);

    // 1. loss vs p_t
    CHECK(fs::exists(out / "curves" / "focal_curves.csv"));
    // 3. AP over epochs: every run, every epoch, APs in [0, 1]
    const auto ap = read_csv(out / "ap_over_epochs.csv");
    std::map<std::string, int> epochs_of;
    for (const auto& row : ap) {
        CHECK_MESSAGE(fraction_or_missing(row.at("val_ap50_area")), row.at("run"));
        CHECK(fraction_or_missing(row.at("val_ap50_voc07")));
        epochs_of[row.at("run")] = std::max(epochs_of[row.at("run")], std::stoi(row.at("epoch")));
    }
    CHECK(epochs_of.size() == 19);
    CHECK(epochs_of["focal"] == 2);
    CHECK(epochs_of["ce"] == 2);
    CHECK(epochs_of["abl_g5_a0.75"] == 1);
    const auto main_results = read_csv(out / "main_results.csv");
    REQUIRE(main_results.size() == 4);
    for (const auto& row : main_results) {
        CHECK(fraction_or_missing(row.at("test_ap50_area")));
        CHECK(fraction_or_missing(row.at("test_ap")));
    }
    // 3. the error analysis of the main runs that did not diverge: AP50 as in main_results,
    // never lower as each kind of false positive is removed
    const auto errors = read_csv(out / "error_analysis.csv");
    CHECK(errors.size() >= 3);
    for (const auto& row : errors) {
        INFO(row.at("run"));
        const double ap = std::stod(row.at("ap50")), no_loc = std::stod(row.at("without_localization")),
                     no_conf = std::stod(row.at("without_confusion")),
                     ceiling = std::stod(row.at("without_background"));
        for (const auto& result : main_results)
            if (result.at("run") == row.at("run")) CHECK(std::abs(ap - std::stod(result.at("test_ap50_area"))) < 1e-3);
        CHECK(no_loc >= ap - 1e-6);
        CHECK(no_conf >= no_loc - 1e-6);
        CHECK(ceiling >= no_conf - 1e-6);
        CHECK(ceiling <= 1.0);
        CHECK(std::stoi(row.at("positives")) > 0);
    }
    // 5. ablation tables
    CHECK(read_csv(out / "ablation_gamma_alpha.csv").size() == 12);
    CHECK(read_csv(out / "ablation_prior.csv").size() == 4);
    CHECK(read_csv(out / "ablation_normalizer.csv").size() == 2);
    for (const auto& row : read_csv(out / "ablation_gamma_alpha.csv"))
        CHECK(fraction_or_missing(row.at("test_ap50_area")));
    // 2. snapshots: epochs 1 and 2 of the FL run, counts per image >= 0, four pictures
    const auto snapshots = read_csv(out / "snapshots" / "snapshots.csv");
    REQUIRE(snapshots.size() == 2);
    CHECK(snapshots[0].at("epoch") == "1");
    CHECK(snapshots[1].at("epoch") == "2");
    for (const auto& row : snapshots) {
        CHECK(fraction_or_missing(row.at("test_ap50_area")));
        CHECK(std::stod(row.at("fp_background_per_image")) >= 0);
        CHECK(std::stoi(row.at("top_fp_background")) >= 0);
        CHECK(std::stoi(row.at("top_fp_confusion")) >= 0);
    }
    const nlohmann::json snap = nlohmann::json::parse(read_text(out / "snapshots" / "snapshots.json"));
    CHECK(snap["images"].size() == 4);
    CHECK(snap["epochs"] == nlohmann::json({1, 2}));
    // 4. the loss CDFs: for each gamma and kind, from 0 to 1, never falling
    std::map<std::string, std::vector<std::pair<double, double>>> curves;
    for (const auto& row : read_csv(out / "analysis" / "loss_cdf.csv"))
        curves[row.at("gamma") + " " + row.at("kind")].push_back(
            {std::stod(row.at("fraction")), std::stod(row.at("cumulative"))});
    CHECK(curves.size() == 8);  // gamma 0, .5, 1, 2 x positive, negative
    for (const auto& [name, points] : curves) {
        const std::string curve = name;  // clang 14 cannot capture a structured binding
        INFO(curve);
        REQUIRE(points.size() > 100);
        CHECK(points.front().first == 0.0);
        CHECK(points.front().second == doctest::Approx(0.0));
        CHECK(points.back().first == 1.0);
        CHECK(points.back().second == doctest::Approx(1.0).epsilon(1e-4));
        for (size_t i = 1; i < points.size(); ++i) {
            CHECK(points[i].first > points[i - 1].first);
            CHECK(points[i].second >= points[i - 1].second - 1e-9);
        }
    }
    // Under FL the negatives' share of the loss is below CE's: the point of the figure
    const auto shares = read_csv(out / "analysis" / "loss_shares.csv");
    REQUIRE(shares.size() == 4);
    for (const auto& row : shares) CHECK(fraction_or_missing(row.at("negative_share_of_total")));
    CHECK(std::stod(shares[3].at("negative_share_of_total")) < std::stod(shares[0].at("negative_share_of_total")));
    const nlohmann::json overlay = nlohmann::json::parse(read_text(out / "analysis" / "loss_overlay.json"));
    const size_t pixels = size_t(overlay["size"].get<int>() * overlay["size"].get<int>());
    CHECK(overlay["maps"]["ce"].size() == pixels);
    CHECK(overlay["maps"]["fl"].size() == pixels);
    // the report, and the figures when matplotlib is there to draw them
    const std::string report = read_text(out / "report.md");
    for (const char* section : {"## 1. Loss vs confidence", "## 2. Training snapshots", "## 3. AP over epochs",
                                "## 4. Where the loss goes", "## 5. Ablations"})
        CHECK_MESSAGE(report.find(section) != std::string::npos, section);
    if (matplotlib_present()) {
        for (const char* png :
             {"curves/focal_curves.png", "snapshots.png", "ap_over_epochs.png", "loss_cdf.png", "loss_overlay.png"}) {
            CHECK_MESSAGE(fs::exists(out / png), png);
            CHECK_MESSAGE(report.find(png) != std::string::npos, png);
        }
    } else {
        MESSAGE("matplotlib is absent: PNGs not checked");
    }

    // A second call continues the first: every run is reused, nothing retrained.
    REQUIRE(run_focal("experiments --tiny --no-plot --threads 2 --out " + out.string(), out.string() + ".log2") == 0);
    const std::string second = read_text(out.string() + ".log2");
    size_t reused = 0;
    for (size_t at = second.find("finished earlier, reused"); at != std::string::npos;
         at = second.find("finished earlier, reused", at + 1))
        ++reused;
    CHECK_MESSAGE(reused == 19, second);
    CHECK(second.find("training demo") == std::string::npos);

    // A changed budget is refused, not silently mixed with the old runs.
    CHECK(run_focal("experiments --tiny --no-plot --seed 5 --out " + out.string(), out.string() + ".log3") != 0);
    CHECK(read_text(out.string() + ".log3").find("another synthetic set") != std::string::npos);
    fs::remove_all(out);
    for (const char* log : {".log", ".log2", ".log3"}) fs::remove(out.string() + log);
}

TEST_CASE("focal experiments --sweep imbalance --tiny: the levels, every run, mean and std, margins, report") {
    REQUIRE_MESSAGE(fs::exists(kFocal), "build the focal binary first (make focal)");
    const fs::path root = fs::temp_directory_path() / ("focal_sweep_" + std::to_string(::getpid()));
    const fs::path out = root / "imbalance";
    fs::remove_all(root);
    const int status =
        run_focal("experiments --sweep imbalance --tiny --threads 2 --out " + root.string(), root.string() + ".log");
    INFO(read_text(root.string() + ".log"));
    REQUIRE(status == 0);

    // Three levels, the background growing: more anchors and more negatives per positive each.
    const auto levels = read_csv(out / "sweep_levels.csv");
    REQUIRE(levels.size() == 3);
    for (size_t i = 1; i < levels.size(); ++i) {
        CHECK(std::stoi(levels[i].at("anchors_per_image")) == 4 * std::stoi(levels[i - 1].at("anchors_per_image")));
        CHECK(std::stod(levels[i].at("negatives_per_positive")) >
              std::stod(levels[i - 1].at("negatives_per_positive")));
    }
    // Every (level, loss, seed) once; APs in [0, 1].
    const auto runs = read_csv(out / "sweep_runs.csv");
    CHECK(runs.size() == 3 * 4 * 2);
    std::map<std::string, int> cells;
    for (const auto& row : runs) {
        ++cells[row.at("level") + "/" + row.at("loss") + "/" + row.at("seed")];
        CHECK(fraction_or_missing(row.at("test_ap50")));
        CHECK(fraction_or_missing(row.at("test_ap")));
    }
    CHECK(cells.size() == runs.size());
    // Mean and std per (level, loss) over the 2 seeds; FL's margins over the 3 baselines.
    const auto summary = read_csv(out / "sweep_summary.csv");
    REQUIRE(summary.size() == 3 * 4);
    for (const auto& row : summary) {
        CHECK(row.at("seeds") == "2");
        CHECK(fraction_or_missing(row.at("test_ap50_mean")));
        CHECK(std::stod(row.at("test_ap50_std")) >= 0);
    }
    const auto margins = read_csv(out / "sweep_margins.csv");
    REQUIRE(margins.size() == 3 * 3);
    for (const auto& row : margins) CHECK(std::abs(std::stod(row.at("ap50_margin_mean"))) <= 1);
    CHECK(read_csv(out / "sweep_ap_over_epochs.csv").size() == runs.size());  // one epoch each
    for (const char* level : {"3k", "12k", "49k"})
        CHECK_MESSAGE(fs::exists(out / "levels" / level / "analysis" / "loss_cdf.csv"), level);
    const std::string report = read_text(out / "report.md");
    CHECK(report.find("## Test AP50 by level") != std::string::npos);
    CHECK(report.find("FL − OHEM") != std::string::npos);
    if (matplotlib_present())
        for (const char* png : {"sweep_margins.png", "sweep_ap_over_epochs.png", "sweep_loss_cdf.png"})
            CHECK_MESSAGE(fs::exists(out / png), png);

    // Resumable: a second call reuses every run.
    REQUIRE(run_focal("experiments --sweep imbalance --tiny --no-plot --threads 2 --out " + root.string(),
                      root.string() + ".log2") == 0);
    const std::string second = read_text(root.string() + ".log2");
    CHECK(second.find("training demo") == std::string::npos);
    fs::remove_all(root);
    for (const char* log : {".log", ".log2"}) fs::remove(root.string() + log);
}
