// safetensors checkpoints: round trip, atomic writes, hostile files, loading in PyTorch.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "file_size_limit.h"
#include "layers/backbone.h"
#include "layers/checkpoint.h"
#include "layers/fpn.h"

using namespace focal;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const char* name) {
    std::string unique = "focal_test_";  // appended, not chained: GCC 12 warns falsely on the latter
    unique.append(std::to_string(::getpid()));
    fs::path dir = fs::temp_directory_path() / unique / name;
    fs::create_directories(dir);
    return dir;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A valid file whose header we then edit: 8-byte length + JSON + data.
std::string with_header(const std::string& json, size_t data_bytes) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
    return out + json + std::string(data_bytes, '\x01');
}

struct BackboneFpn : Module {
    BackboneFpn(Generator& gen)
        : backbone(register_module("backbone", std::make_shared<PlainBackbone>(BackboneConfig{}, gen))),
          fpn(register_module("fpn", std::make_shared<Fpn>(FpnConfig{}, gen))) {}
    std::vector<Tensor> forward(const Tensor& x) {
        std::vector<Tensor> c = backbone->forward(x);
        return fpn->forward({c[1], c[2], c[3]});
    }
    std::shared_ptr<Backbone> backbone;
    std::shared_ptr<Fpn> fpn;
};

}  // namespace

TEST_CASE("round trip: values, dtypes, shapes, metadata, file layout") {
    fs::path dir = scratch_dir("roundtrip");
    Generator gen(0);
    NamedTensors tensors{{"a", Tensor::randn({2, 3}, gen)},
                         {"labels", Tensor::from_vector(std::vector<int32_t>{4, -1, 7}, {3})},
                         {"scalar", Tensor::scalar(2.5f)},
                         {"empty", Tensor::zeros({0, 4})},
                         {"view", Tensor::randn({4, 5}, gen).transpose(0, 1)}};
    save_safetensors((dir / "t.safetensors").string(), tensors, {{"epoch", "3"}});
    SafetensorsFile file = load_safetensors((dir / "t.safetensors").string());
    REQUIRE(file.tensors.size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        CHECK(file.tensors[i].first == tensors[i].first);
        CHECK(file.tensors[i].second.shape() == tensors[i].second.shape());
        CHECK(file.tensors[i].second.dtype() == tensors[i].second.dtype());
    }
    CHECK(file.at("a").to_vector<float>() == tensors[0].second.to_vector<float>());
    CHECK(file.at("labels").to_vector<int32_t>() == std::vector<int32_t>{4, -1, 7});
    CHECK(file.at("view").to_vector<float>() == tensors[4].second.to_vector<float>());
    CHECK(file.metadata.at("epoch") == "3");
    std::string bytes = read_bytes(dir / "t.safetensors");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
    CHECK(n % 8 == 0);  // data starts 8-byte aligned
    CHECK(bytes[8] == '{');
    CHECK_THROWS_WITH_AS(file.at("nope"), doctest::Contains("missing key 'nope'"), Error);
    // Only the final file is left behind: no temp files.
    int files = 0;
    for (auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
    CHECK(files == 1);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("hostile and broken files fail cleanly, naming the file and the problem") {
    fs::path dir = scratch_dir("hostile");
    std::string good_json = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    struct Case {
        const char* name;
        std::string bytes;
        const char* message;
    };
    std::string valid = with_header(good_json, 8);
    std::vector<Case> cases{
        {"empty", "", "too short"},
        {"truncated data", valid.substr(0, valid.size() - 3), "outside the"},
        {"truncated header", valid.substr(0, 20), "does not fit"},
        {"lying length", std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8) + good_json, "does not fit"},
        {"not json", with_header("{nope", 8), "not valid JSON"},
        {"not an object", with_header("[1, 2]", 8), "not a JSON object"},
        {"unknown dtype", with_header(R"({"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", 8), "dtype F16"},
        {"shape vs span", with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "spans 8 bytes"},
        {"negative shape", with_header(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
         "invalid shape"},
        {"huge shape", with_header(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8),
         "larger than the file"},
        {"overlap",
         with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     12),
         "overlap"},
        {"missing field", with_header(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "lacks dtype"},
        {"bad metadata", with_header(R"({"__metadata__":{"a":1}})", 0), "not a string"},
        {"shape not a list", with_header(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8), "not a list"},
        {"dtype not a string", with_header(R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8), "not a string"},
        // A zero dim does not excuse the others: their product would overflow the strides.
        {"huge shape with a 0",
         with_header(R"({"w":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],)"
                     R"("data_offsets":[0,0]}})",
                     0),
         "larger than the file"},
        // An empty tensor between two that overlap must not hide the overlap (the old check
        // compared neighbours only; regression seed fuzz/corpus/safetensors/overlap_behind_empty.safetensors).
        {"overlap behind an empty span",
         with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],)"
                     R"("data_offsets":[4,4]},"c":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}})",
                     12),
         "overlap"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        fs::path path = dir / "bad.safetensors";
        write_bytes(path, c.bytes);
        CHECK_THROWS_WITH_AS(load_safetensors(path.string()), doctest::Contains(c.message), Error);
        CHECK_THROWS_WITH_AS(load_safetensors(path.string()), doctest::Contains(path.c_str()), Error);
    }
    // Random bytes, many seeds: always an Error, never a crash.
    Generator gen(7);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<float> u = Tensor::rand({64}, gen).to_vector<float>();
        std::string bytes;
        for (float v : u) bytes.push_back(static_cast<char>(static_cast<unsigned char>(v * 256)));  // v * 256 < 256
        if (trial % 2) bytes = with_header(good_json, 8).substr(0, 8) + bytes;  // plausible length, garbage JSON
        write_bytes(dir / "random.safetensors", bytes);
        CHECK_THROWS_AS(load_safetensors((dir / "random.safetensors").string()), Error);
    }
    CHECK_THROWS_WITH_AS(load_safetensors((dir / "absent.safetensors").string()), doctest::Contains("cannot open"),
                         Error);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("a failed write leaves the previous checkpoint intact") {
    fs::path dir = scratch_dir("atomic");
    std::string path = (dir / "m.safetensors").string();
    save_safetensors(path, {{"w", Tensor::ones({2})}});
    std::string before = read_bytes(path);
    // An undefined tensor fails before anything is written.
    CHECK_THROWS_AS(save_safetensors(path, {{"w", Tensor()}}), Error);
    // A folder that does not exist fails at the temp file, naming it.
    CHECK_THROWS_WITH_AS(save_safetensors((dir / "missing" / "m.safetensors").string(), {{"w", Tensor::ones({2})}}),
                         doctest::Contains("cannot create"), Error);
    CHECK(read_bytes(path) == before);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("a write that fails (a full disk) is an Error naming the file, and the old checkpoint stays") {
    fs::path dir = scratch_dir("full_disk");
    const std::string path = (dir / "m.safetensors").string();
    save_safetensors(path, {{"w", Tensor::ones({2})}});
    const std::string before = read_bytes(path);
    CHECK(parse_safetensors(before, path).at("w").numel() == 2);
    {
        focal::testing::FileSizeLimit limit(64);  // the new file needs 8 + 80 + 4096 bytes
        if (!limit.active()) {
            MESSAGE("skipped: RLIMIT_FSIZE cannot be lowered here");
            return;
        }
        CHECK_THROWS_WITH_AS(save_safetensors(path, {{"w", Tensor::ones({1024})}}),
                             doctest::Contains(("cannot write " + path + ": File too large").c_str()), Error);
    }
    CHECK(read_bytes(path) == before);
    for (const auto& entry : fs::directory_iterator(dir))  // no temp file left behind
        CHECK(entry.path().filename().string() == "m.safetensors");
    fs::remove_all(dir.parent_path());
}

TEST_CASE("model + optimizer checkpoint: save, load, validate keys") {
    fs::path dir = scratch_dir("model");
    Generator gen(1);
    BackboneFpn model(gen);
    SGD sgd(model.named_parameters(), SgdOptions{0.1f, 0.9f});
    Tensor x = Tensor::randn({2, 3, 32, 32}, gen);
    for (int i = 0; i < 2; ++i) {
        sgd.zero_grad();
        Tensor loss = Tensor::scalar(0.0f);
        for (const Tensor& p : model.forward(x)) loss = loss + mean(p * p);
        loss.backward();
        sgd.step();
    }
    CheckpointPaths paths{(dir / "checkpoint.safetensors").string(), (dir / "optimizer.safetensors").string()};
    save_checkpoint(paths, model, &sgd, {{"epoch", "2"}});
    Generator other(99);
    BackboneFpn restored(other);
    SGD restored_sgd(restored.named_parameters(), SgdOptions{0.1f, 0.9f});
    Metadata progress = load_checkpoint(paths, restored, &restored_sgd);
    CHECK(progress.at("epoch") == "2");
    CHECK(restored_sgd.steps() == 2);
    auto a = model.state(), b = restored.state();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_vector<float>() == b[i].second.to_vector<float>());
    // A checkpoint of another architecture names the first key that does not fit.
    Linear small(3, 2, gen);
    save_safetensors(paths.model, small.state());
    CHECK_THROWS_WITH_AS(load_checkpoint(paths, restored, nullptr),
                         doctest::Contains("missing key 'backbone.stem.0.weight'"), Error);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("a stop between the optimizer's and the model's write loses nothing: the matching optimizer state loads") {
    fs::path dir = scratch_dir("torn");
    Generator gen(2);
    Linear model(3, 2, gen);
    SGD sgd(model.named_parameters(), SgdOptions{0.1f, 0.9f});
    const auto step = [&] {
        sgd.zero_grad();
        mean(model.forward(Tensor::randn({4, 3}, gen))).backward();
        sgd.step();
    };
    CheckpointPaths paths{(dir / "checkpoint.safetensors").string(), (dir / "optimizer.safetensors").string()};
    step();
    save_checkpoint(paths, model, &sgd, {{"step", "1"}});
    const fs::path model_at_1 = dir / "model-at-1";
    fs::copy_file(paths.model, model_at_1);
    step();
    save_checkpoint(paths, model, &sgd, {{"step", "2"}});
    // As if stopped after the optimizer file was replaced but before the model file was.
    fs::copy_file(model_at_1, paths.model, fs::copy_options::overwrite_existing);
    Generator other(5);
    Linear restored(3, 2, other);
    SGD restored_sgd(restored.named_parameters(), SgdOptions{0.1f, 0.9f});
    const Metadata progress = load_checkpoint(paths, restored, &restored_sgd);
    CHECK(progress.at("step") == "1");
    CHECK(restored_sgd.steps() == 1);
    // Without the previous optimizer file the mismatch is an error naming both files.
    fs::remove(paths.optimizer + ".previous");
    CHECK_THROWS_WITH_AS(load_checkpoint(paths, restored, &restored_sgd),
                         doctest::Contains("are from different checkpoints"), Error);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("a focal checkpoint loads in PyTorch with the same values and outputs") {
    const char* python = "/usr/bin/python3";
    if (std::system((std::string(python) + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
        MESSAGE("skipped: Debian's python3-torch is not installed");
        return;
    }
    fs::path dir = scratch_dir("torch");
    Generator gen(5);
    BackboneFpn model(gen);
    {  // a few training-mode passes so the BN running statistics are not trivial
        NoGradGuard no_grad;
        for (int i = 0; i < 3; ++i) model.forward(Tensor::randn({2, 3, 64, 64}, gen));
    }
    model.eval();
    Tensor x = Tensor::randn({1, 3, 64, 64}, gen);
    std::vector<Tensor> p = model.forward(x);
    NamedTensors probe{{"input", x}};
    const char* names[] = {"p3", "p4", "p5", "p6", "p7"};
    for (int i = 0; i < 5; ++i) probe.emplace_back(names[i], p[i]);
    save_safetensors((dir / "model.safetensors").string(), model.state());
    save_safetensors((dir / "probe.safetensors").string(), probe);
    std::string command = std::string(python) + " " FOCAL_SOURCE_DIR "/tests/layers/check_torch_load.py " +
                          (dir / "model.safetensors").string() + " " + (dir / "probe.safetensors").string();
    CHECK(std::system(command.c_str()) == 0);
    fs::remove_all(dir.parent_path());
}
