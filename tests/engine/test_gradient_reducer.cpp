// GradientReducer (engine/dist/gradient_reducer.h) in one process, against a stand-in for a
// second rank whose every gradient element is 1 (and which had a gradient for every
// parameter): the all-reduced sum adds 1 to each element of the flat buffer, so each
// averaged gradient must be (own + 1) / 2, or (0 + 1) / 2 where this rank had none.
#include <doctest/doctest.h>

#include <functional>

#include "engine/dist/gradient_reducer.h"
#include "engine/engine.h"

using namespace focal;

namespace {

class PeerOfOnes : public dist::Collective {
public:
    int rank() const override { return 0; }
    int size() const override { return 2; }
    std::string name() const override { return "a peer of ones"; }
    void all_reduce_sum(Tensor& t) override {
        t.add_(Tensor::ones(t.shape()));
        ++calls;
    }
    void broadcast(Tensor&, int) override {}
    void all_reduce_sum(std::span<double>) override {}
    std::vector<double> all_gather(std::span<const double> values) override { return {values.begin(), values.end()}; }
    std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
    void barrier() override {}
    int calls = 0;
};

std::vector<float> plus_one_halved(const std::vector<float>& own) {
    std::vector<float> out;
    for (float v : own) out.push_back((v + 1.0f) / 2.0f);
    return out;
}

}  // namespace

TEST_CASE("the reducer averages gradients in their bucket slots, with no copy after backward") {
    Tensor w = Tensor::from_vector(std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}, {2, 2}).requires_grad_();
    Tensor b = Tensor::from_vector(std::vector<float>{0.5f, -0.5f}, {2}).requires_grad_();
    Tensor unused = Tensor::ones({3}).requires_grad_();  // no gradient on this rank
    PeerOfOnes peer;
    // 8 bytes a bucket: 4 + 2 + 3 gradient elements make 5 buckets, all-reduced with the 3 flags
    // in 6 calls. `unused`, packed first, has no gradient: every bucket waits for average().
    dist::GradientReducer reducer(peer, {w, b, unused}, 8);
    CHECK(reducer.elements() == 12);
    CHECK(reducer.buckets() == 5);

    for (int step = 0; step < 2; ++step) {  // the second step reuses the slots
        CAPTURE(step);
        w.zero_grad(), b.zero_grad(), unused.zero_grad();
        const float k = 1.0f + step;
        sum(k * w * w + b).backward();  // dw = 2 k w (w used twice), db = 2 (b broadcast over 2 rows)
        const Tensor written = w.grad();
        peer.calls = 0;
        reducer.average();
        CHECK(peer.calls == 6);
        CHECK(reducer.started_during_backward() == 0);
        CHECK(w.grad().impl() == written.impl());  // the slot backward wrote is the result
        CHECK(w.grad().shape() == Shape{2, 2});
        CHECK(w.grad().to_vector<float>() == plus_one_halved({2 * k, 4 * k, 6 * k, 8 * k}));
        CHECK(b.grad().to_vector<float>() == std::vector<float>{1.5f, 1.5f});
        CHECK(unused.grad().to_vector<float>() == std::vector<float>{0.5f, 0.5f, 0.5f});
    }

    // A gradient set by hand (not written by backward) is copied into its slot first.
    w.set_grad(Tensor::full({2, 2}, 3.0f));
    b.zero_grad(), unused.zero_grad();
    reducer.average();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f, 2.0f, 2.0f});
    CHECK(b.grad().to_vector<float>() == std::vector<float>{0.5f, 0.5f});
}

TEST_CASE("a parameter no rank gave a gradient keeps none") {
    class Silent : public PeerOfOnes {
        void all_reduce_sum(Tensor&) override {}  // the peer had no gradients at all
        using PeerOfOnes::all_reduce_sum;
    };
    Tensor a = Tensor::ones({2}).requires_grad_(), c = Tensor::ones({2}).requires_grad_();
    Silent peer;
    {
        dist::GradientReducer reducer(peer, {a, c});
        sum(a * 4.0f).backward();
        reducer.average();
        CHECK(a.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f});  // (4 + 0) / 2
        CHECK_FALSE(c.grad().defined());
    }
    // The reducer gone, backward writes fresh tensors again.
    a.zero_grad();
    sum(a).backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{1.0f, 1.0f});
}

TEST_CASE("buckets start during backward, in order, as soon as their gradients are final") {
    class Watching : public PeerOfOnes {
    public:
        std::function<void()> on_start;
        void start_all_reduce_sum(Tensor& t) override {
            on_start();
            all_reduce_sum(t);
        }
        using PeerOfOnes::all_reduce_sum;
    };
    const Tensor x = Tensor::from_vector(std::vector<float>{1.0f, 2.0f, 3.0f}, {3});
    Tensor w1 = Tensor::ones({3}).requires_grad_(), w2 = Tensor::full({3}, 2.0f).requires_grad_();
    Watching peer;
    std::vector<bool> backward_reached_w1;  // at each start
    peer.on_start = [&] { backward_reached_w1.push_back(w1.grad().defined()); };
    // One bucket a parameter, last parameter first: [w2], [w1], then the flags.
    dist::GradientReducer reducer(peer, {w1, w2}, 3 * sizeof(float));
    REQUIRE(reducer.buckets() == 2);
    for (bool overlap : {true, false}) {
        CAPTURE(overlap);
        reducer.set_overlap(overlap);
        w1.zero_grad(), w2.zero_grad();
        backward_reached_w1.clear();
        sum(w2 * (w1 * x)).backward();  // dw1 = w2 x = (2, 4, 6), dw2 = w1 x = (1, 2, 3)
        // With the overlap, w2's bucket started before backward reached w1, w1's when it was final.
        CHECK(backward_reached_w1 == (overlap ? std::vector<bool>{false, true} : std::vector<bool>{}));
        reducer.average();
        CHECK(reducer.started_during_backward() == (overlap ? 2u : 0u));
        CHECK(backward_reached_w1.size() == 3);  // + the flags, after backward
        CHECK(w1.grad().to_vector<float>() == std::vector<float>{1.5f, 2.5f, 3.5f});
        CHECK(w2.grad().to_vector<float>() == std::vector<float>{1.0f, 1.5f, 2.0f});
    }

    // Under synchronised batch norm (collectives of its own during backward) every bucket
    // waits for average(), so that the ranks' collectives come in one order.
    {
        const dist::BatchNormSync sync_bn(&peer);
        w1.zero_grad(), w2.zero_grad();
        backward_reached_w1.clear();
        sum(w2 * (w1 * x)).backward();
        CHECK(backward_reached_w1.empty());
        reducer.average();
        CHECK(reducer.started_during_backward() == 0);
        CHECK(w1.grad().to_vector<float>() == std::vector<float>{1.5f, 2.5f, 3.5f});
    }

    // A second backward before average() would add into a bucket already on its way.
    reducer.set_overlap(true);
    w1.zero_grad(), w2.zero_grad();
    sum(w2 * (w1 * x)).backward();
    CHECK_THROWS_WITH_AS(sum(w2 * (w1 * x)).backward(), doctest::Contains("a second backward pass"), Error);
}
