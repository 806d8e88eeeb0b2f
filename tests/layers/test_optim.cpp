// Optimizers against torch.optim trajectories (golden_optim.inc), schedules, clipping, state.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/engine.h"
#include "golden_optim.inc"

using namespace focal;

namespace {

template <class Opt, class Options>
std::vector<float> trajectory(Options options) {
    std::vector<float> p0(6);
    for (int i = 0; i < 6; ++i) p0[i] = static_cast<float>(std::sin(0.7 * i + 0.2));
    Tensor p = Tensor::from_vector(p0, {6}).requires_grad_();
    Opt opt({{"p", p}}, options);
    std::vector<float> out;
    for (int t = 0; t < 3; ++t) {
        std::vector<float> g(6);
        for (int i = 0; i < 6; ++i) g[i] = static_cast<float>(std::cos(0.3 * i + t));
        p.set_grad(Tensor::from_vector(g, {6}));
        opt.step();
        for (float v : p.to_vector<float>()) out.push_back(v);
    }
    return out;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("SGD matches torch.optim.SGD: plain, momentum + weight decay, nesterov") {
    check_close(trajectory<SGD>(SgdOptions{0.1f}), golden::sgd_plain);
    check_close(trajectory<SGD>(SgdOptions{0.1f, 0.9f, 1e-2f}), golden::sgd_momentum_wd);
    check_close(trajectory<SGD>(SgdOptions{0.1f, 0.9f, 1e-2f, true}), golden::sgd_nesterov);
    CHECK_THROWS_WITH_AS(SGD({{"p", Tensor::ones({1}).requires_grad_()}}, SgdOptions{0.1f, 0.0f, 0.0f, true}),
                         doctest::Contains("nesterov needs momentum"), Error);
    CHECK_THROWS_WITH_AS(SGD({{"p", Tensor::ones({1})}}, SgdOptions{}), doctest::Contains("'p' does not require grad"),
                         Error);
}

TEST_CASE("AdamW matches torch.optim.AdamW") {
    check_close(trajectory<AdamW>(AdamWOptions{0.05f, 0.9f, 0.999f, 1e-8f, 0.1f}), golden::adamw);
}

TEST_CASE("optimizer state round-trips through its named tensors") {
    auto run = [](bool restore_midway) {
        Tensor p = Tensor::from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
        auto opt = std::make_unique<AdamW>(NamedTensors{{"w", p}}, AdamWOptions{0.1f});
        for (int t = 0; t < 4; ++t) {
            if (restore_midway && t == 2) {  // a fresh optimizer resumes from the saved state
                SafetensorsFile saved{opt->state(), {}};
                opt = std::make_unique<AdamW>(NamedTensors{{"w", p}}, AdamWOptions{0.1f});
                opt->load_state(saved, "test");
                CHECK(opt->steps() == 2);
            }
            p.set_grad(Tensor::from_vector(std::vector<float>{0.5f * t, -1.0f}, {2}));
            opt->step();
        }
        return p.to_vector<float>();
    };
    CHECK(run(false) == run(true));
    SGD sgd({{"w", Tensor::ones({2}).requires_grad_()}}, SgdOptions{0.1f, 0.9f});
    SafetensorsFile wrong{{{"step", Tensor::from_vector(std::vector<int32_t>{1}, {1})},
                           {"w.momentum_buffer", Tensor::ones({3})}},
                          {}};
    CHECK_THROWS_WITH_AS(sgd.load_state(wrong, "opt.safetensors"),
                         doctest::Contains("'w.momentum_buffer' has shape (3,)"), Error);
}

TEST_CASE("learning-rate schedules: warm-up, step, cosine") {
    LrSchedule s;
    s.base_lr = 0.1f;
    s.warmup_steps = 10;
    s.warmup_factor = 0.1f;
    s.decay = LrSchedule::Decay::Step;
    s.milestones = {20, 30};
    CHECK(s.at(0) == doctest::Approx(0.01));
    CHECK(s.at(5) == doctest::Approx(0.1 * (0.1 * 0.5 + 0.5)));
    CHECK(s.at(10) == doctest::Approx(0.1));
    CHECK(s.at(25) == doctest::Approx(0.01));
    CHECK(s.at(35) == doctest::Approx(0.001));
    LrSchedule c;
    c.base_lr = 1.0f;
    c.decay = LrSchedule::Decay::Cosine;
    c.total_steps = 100;
    c.min_lr = 0.0f;
    CHECK(c.at(0) == doctest::Approx(1.0));
    CHECK(c.at(50) == doctest::Approx(0.5));
    CHECK(c.at(100) == doctest::Approx(0.0).scale(1));
}

TEST_CASE("clip_grad_norm scales to the global norm") {
    Tensor a = Tensor::ones({3}).requires_grad_(), b = Tensor::ones({1}).requires_grad_();
    a.set_grad(Tensor::from_vector(std::vector<float>{3, 0, 0}, {3}));
    b.set_grad(Tensor::from_vector(std::vector<float>{4}, {1}));
    CHECK(clip_grad_norm({a, b}, 1.0f) == doctest::Approx(5.0));
    CHECK(a.grad().to_vector<float>()[0] == doctest::Approx(0.6).epsilon(1e-4));
    CHECK(b.grad().to_vector<float>()[0] == doctest::Approx(0.8).epsilon(1e-4));
    CHECK(clip_grad_norm({a, b}, 10.0f) == doctest::Approx(1.0).epsilon(1e-4));  // already small: unchanged
    CHECK(a.grad().to_vector<float>()[0] == doctest::Approx(0.6).epsilon(1e-4));
}
