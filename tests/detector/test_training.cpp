// Training end to end on a small generated set: the loss falls, resume reproduces an
// uninterrupted run exactly, a diverging run stops with a clear message, and a few steps on
// genuine VOC images work when ../shared is present.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "data/shapes.h"
#include "detector/run_lock.h"
#include "detector/stop_request.h"
#include "detector/trainer.h"
#include "file_size_limit.h"
#include "small_run.h"

using namespace focal;
using namespace focal::detector;
namespace fs = std::filesystem;

using focal::test::file_bytes;
using focal::test::run_dir;
using focal::test::shapes_dir;
using focal::test::small_config;

namespace {

// Trains `c` whole, then again into `parts` as one epoch and a --resume of the rest: the
// joined step losses must equal the uninterrupted run's, bit for bit. Returns those losses.
std::vector<double> check_resume_is_exact(const TrainConfig& c, const fs::path& parts) {
    const TrainResult uninterrupted = train(c);
    TrainConfig one = c;
    one.out = parts.string();
    one.epochs = 1;
    std::vector<double> joined = train(one).step_losses;
    TrainConfig rest = c;
    rest.out = parts.string();
    rest.resume = true;
    const TrainResult r2 = train(rest);
    joined.insert(joined.end(), r2.step_losses.begin(), r2.step_losses.end());
    REQUIRE(joined.size() == uninterrupted.step_losses.size());
    for (size_t i = 0; i < joined.size(); ++i) CHECK(joined[i] == uninterrupted.step_losses[i]);  // bitwise
    return uninterrupted.step_losses;
}

}  // namespace

TEST_CASE("training writes its run files and the loss falls") {
    fs::path out = run_dir("basic");
    TrainConfig c = small_config(out.string());
    c.epochs = 3;
    c.max_iters = 8;
    c.eval_every = 3;  // once, after the last epoch
    c.snapshot_epochs = {1, 3};
    TrainResult r = train(c);
    REQUIRE(r.step_losses.size() == 24);
    double first = (r.step_losses[0] + r.step_losses[1]) / 2, last = (r.step_losses[22] + r.step_losses[23]) / 2;
    MESSAGE("loss " << first << " -> " << last);
    CHECK(last < first);
    for (const char* f : {"config.json", "log.jsonl", "checkpoint.safetensors", "optimizer.safetensors", "metrics.json",
                          "best.safetensors"})
        CHECK_MESSAGE(fs::exists(out / f), f);
    nlohmann::json metrics = nlohmann::json::parse(std::ifstream(out / "metrics.json"));
    CHECK(metrics["map50_voc07"].get<double>() >= 0.0);
    CHECK(metrics["map50_voc07"].get<double>() <= 1.0);
    CHECK(metrics["map50_area"].get<double>() >= 0.0);
    CHECK(metrics["per_class"].size() == 5);
    // The run loads back and evaluates to the same numbers.
    LoadedRun loaded = load_run(out.string(), "last");
    CHECK(loaded.class_names.size() == 5);
    CHECK(loaded.model->num_parameters() > 0);
    // Snapshots of the chosen epochs only, loadable by name.
    CHECK(fs::exists(out / "snapshot-epoch1.safetensors"));
    CHECK(!fs::exists(out / "snapshot-epoch2.safetensors"));
    CHECK(fs::exists(out / "snapshot-epoch3.safetensors"));
    CHECK(load_run(out.string(), "epoch1").model->num_parameters() == loaded.model->num_parameters());
    CHECK_THROWS_WITH_AS(load_run(out.string(), "epoch2"), doctest::Contains("snapshot-epoch2"), Error);
    // A second train into the same folder refuses to overwrite it.
    CHECK_THROWS_WITH_AS(train(c), doctest::Contains("already holds a run"), Error);
    fs::remove_all(out);
}

TEST_CASE("resume is exact: an interrupted run and an uninterrupted one agree step for step") {
    fs::path whole = run_dir("exact_whole"), parts = run_dir("exact_parts");
    TrainConfig c = small_config(whole.string());
    c.val_split = "";
    c.epochs = 3;
    c.schedule = "constant";
    c.warmup_iters = 0;
    check_resume_is_exact(c, parts);
    fs::remove_all(whole);
    fs::remove_all(parts);
}

TEST_CASE("--multi-scale, --mosaic and --mixup train at several sizes, and resume stays exact") {
    CHECK(multi_scale_sizes(128, 0.25f) == std::vector<int>{96, 128, 160});
    CHECK(multi_scale_sizes(256, 0.5f) == std::vector<int>{128, 160, 192, 224, 256, 288, 320, 352, 384});
    CHECK(multi_scale_sizes(256, 0.0f).empty());
    CHECK_THROWS_WITH_AS(multi_scale_sizes(40, 0.1f), doctest::Contains("no multiple of 32 between 36 and 44"), Error);

    fs::path whole = run_dir("mixed_whole"), parts = run_dir("mixed_parts");
    TrainConfig c = small_config(whole.string());
    c.val_split = "";
    c.image_size = 128;
    c.multi_scale = 0.25f;
    c.mosaic = 1.0f;
    c.mixup = 0.5f;
    c.schedule = "constant";
    c.warmup_iters = 0;
    const std::vector<double> losses = check_resume_is_exact(c, parts);
    REQUIRE(losses.size() == 8);
    for (double l : losses) CHECK(std::isfinite(l));
    fs::remove_all(whole);
    fs::remove_all(parts);
}

TEST_CASE("a stop request mid-epoch checkpoints, and --resume continues bitwise as if never stopped") {
    fs::path whole = run_dir("stop_whole");
    TrainConfig c = small_config(whole.string());
    c.val_split = "";
    c.epochs = 3;
    c.warmup_iters = 3;
    c.schedule = "cosine";  // the lr depends on the step: a wrong step after resume shows
    const TrainResult uninterrupted = train(c);
    REQUIRE(uninterrupted.step_losses.size() == 12);
    for (const int64_t stop_at : {4, 6, 11}) {  // an epoch's last step, mid-epoch, in the last epoch
        CAPTURE(stop_at);
        fs::path parts = run_dir("stop_parts");
        TrainConfig first = c;
        first.out = parts.string();
        TrainHooks hooks;
        hooks.after_step = [&](int64_t step) {
            if (step == stop_at) request_stop(SIGTERM);
        };
        const TrainResult stopped = train(first, hooks);
        clear_stop_request();
        CHECK(stopped.stopped_by == SIGTERM);
        CHECK(stopped.stopped_at_step == stop_at);
        REQUIRE(static_cast<int64_t>(stopped.step_losses.size()) == stop_at);
        TrainConfig rest = c;
        rest.out = parts.string();
        rest.resume = true;
        const TrainResult resumed = train(rest);
        CHECK(resumed.stopped_by == 0);
        std::vector<double> joined = stopped.step_losses;
        joined.insert(joined.end(), resumed.step_losses.begin(), resumed.step_losses.end());
        REQUIRE(joined.size() == uninterrupted.step_losses.size());
        for (size_t i = 0; i < joined.size(); ++i) CHECK(joined[i] == uninterrupted.step_losses[i]);  // bitwise
        // The epochs' records average the same losses, and the final files are the same bytes.
        REQUIRE(!resumed.epochs.empty());
        CHECK(resumed.epochs.back().loss == uninterrupted.epochs.back().loss);
        CHECK(file_bytes(parts / "checkpoint.safetensors") == file_bytes(whole / "checkpoint.safetensors"));
        CHECK(file_bytes(parts / "optimizer.safetensors") == file_bytes(whole / "optimizer.safetensors"));
        fs::remove_all(parts);
    }
    fs::remove_all(whole);
}

TEST_CASE("a run folder that another focal train is writing is refused, and nothing is mixed in") {
    fs::path dir = run_dir("locked");
    TrainConfig c = small_config(dir.string());
    c.val_split = "";
    {
        RunLock other(dir.string());  // as another process writing the folder would hold it
        CHECK_THROWS_WITH_AS(train(c), doctest::Contains("is being written by another focal train"), Error);
        CHECK(!fs::exists(dir / "config.json"));
        CHECK(!fs::exists(dir / "log.jsonl"));
    }
    CHECK_NOTHROW(train(c));  // released: the folder is free again
    fs::remove_all(dir);
}

TEST_CASE("a diverging run stops with a clear message and keeps the last good checkpoint") {
    fs::path out = run_dir("nan");
    TrainConfig c = small_config(out.string());
    c.val_split = "";
    c.epochs = 1;
    train(c);  // one good epoch
    std::string before;
    {
        std::ifstream in(out / "checkpoint.safetensors", std::ios::binary);
        before.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    TrainConfig bad = c;
    bad.resume = true;
    bad.epochs = 3;
    bad.lr = 1e12f;  // explodes within a few steps
    bad.warmup_iters = 0;
    bad.schedule = "constant";
    CHECK_THROWS_WITH_AS(train(bad), doctest::Contains("the loss became"), Error);
    std::ifstream in(out / "checkpoint.safetensors", std::ios::binary);
    std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(after == before);  // still epoch 1's weights
    fs::remove_all(out);
}

TEST_CASE("a log.jsonl that cannot be written (a full disk) stops training, naming it; the checkpoint stays") {
    fs::path out = run_dir("full_disk");
    TrainConfig c = small_config(out.string());
    c.val_split = "";
    c.epochs = 1;
    train(c);  // one good epoch
    const auto read = [](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const std::string before = read(out / "checkpoint.safetensors");
    TrainConfig more = c;
    more.resume = true;
    more.epochs = 2;
    {
        // The log may grow by a few bytes only: its first step line of epoch 2 fails.
        focal::testing::FileSizeLimit limit(fs::file_size(out / "log.jsonl") + 8);
        if (!limit.active()) {
            MESSAGE("skipped: RLIMIT_FSIZE cannot be lowered here");
            return;
        }
        CHECK_THROWS_WITH_AS(train(more),
                             doctest::Contains(
                                 ("cannot write " + (out / "log.jsonl").string() + ": File too large").c_str()),
                             Error);
    }
    CHECK(read(out / "checkpoint.safetensors") == before);  // epoch 1's weights, still loadable
    fs::remove_all(out);
}

TEST_CASE("bad configuration fails with a message naming the value") {
    TrainConfig c = small_config(run_dir("bad").string());
    c.cls_loss = "nope";
    CHECK_THROWS_WITH_AS(train(c), doctest::Contains("nope"), Error);
    c = small_config(run_dir("bad2").string());
    c.normalizer = "images";
    CHECK_THROWS_WITH_AS(train(c), doctest::Contains("unknown normalizer 'images'"), Error);
    c = small_config(run_dir("bad3").string());
    c.resume = true;
    CHECK_THROWS_WITH_AS(train(c), doctest::Contains("--resume: no checkpoint"), Error);
    c = small_config(run_dir("bad4").string());
    c.data = "/nonexistent/voc";
    CHECK_THROWS_AS(train(c), Error);
}

TEST_CASE("a few training steps on genuine VOC 2007 images") {
    const fs::path voc = fs::path(FOCAL_SOURCE_DIR) / ".." / "shared" / "data" / "VOCdevkit";
    if (!fs::exists(voc)) {
        MESSAGE("skipped: the VOC sample (../shared/data/VOCdevkit) is absent");
        return;
    }
    fs::path out = run_dir("voc");
    TrainConfig c;
    c.data = voc.string();
    c.split = "train";
    c.val_split = "val";
    c.preset = "tiny";
    c.image_size = 128;
    c.max_images = 8;
    c.batch = 4;
    c.epochs = 1;
    c.max_iters = 2;
    c.workers = 1;
    c.progress = false;
    c.out = out.string();
    TrainResult r = train(c);
    CHECK(r.step_losses.size() == 2);
    for (double l : r.step_losses) CHECK(std::isfinite(l));
    nlohmann::json config = nlohmann::json::parse(std::ifstream(out / "config.json"));
    CHECK(config["classes"].size() == 20);
    fs::remove_all(out);
}
