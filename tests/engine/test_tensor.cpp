// Tensors: creation, views sharing storage, broadcasting, errors, random determinism.
#include <doctest/doctest.h>

#include <sstream>

#include "engine/engine.h"

using namespace focal;

namespace {
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

TEST_CASE("creation and metadata") {
    Tensor z = Tensor::zeros({2, 3});
    CHECK(z.shape() == Shape{2, 3});
    CHECK(z.strides() == Strides{3, 1});
    CHECK(z.numel() == 6);
    CHECK(z.is_contiguous());
    CHECK(values(Tensor::full({2}, 2.5f)) == std::vector<float>{2.5f, 2.5f});
    CHECK(values(Tensor::arange(0, 5)) == std::vector<float>{0, 1, 2, 3, 4});
    CHECK(values(Tensor::arange(5, 0, -2)) == std::vector<float>{5, 3, 1});
    CHECK(Tensor::arange(0, 3, 1, DType::I32).to_vector<int32_t>() == std::vector<int32_t>{0, 1, 2});
    CHECK(Tensor::scalar(4.0f).item() == 4.0f);
    CHECK(Tensor::scalar(4.0f).dim() == 0);
    CHECK_THROWS_WITH_AS(Tensor::zeros({2, 2}).item(), doctest::Contains("4 elements"), Error);
    CHECK_THROWS_WITH_AS(Tensor::from_vector(std::vector<float>{1, 2, 3}, {2, 2}),
                         doctest::Contains("do not fill shape (2, 2)"), Error);
}

TEST_CASE("views share storage: a write through a view shows in the base") {
    Tensor base = Tensor::arange(0, 12).reshape({3, 4});
    Tensor column = base.slice(1, 1, 2);  // (3, 1), strided
    CHECK_FALSE(base.slice(1, 1, 3).is_contiguous());
    column.fill_(-1.0f);
    CHECK(values(base) == std::vector<float>{0, -1, 2, 3, 4, -1, 6, 7, 8, -1, 10, 11});
    Tensor t = base.transpose(0, 1);
    CHECK(t.same_storage(base));
    CHECK(t.shape() == Shape{4, 3});
    CHECK(values(t.select(0, 0)) == std::vector<float>{0, 4, 8});
    t.select(0, 3).copy_(Tensor::full({3}, 9.0f));
    CHECK(values(base.select(1, 3)) == std::vector<float>{9, 9, 9});
    Tensor e = Tensor::arange(0, 3).reshape({3, 1}).expand({3, 2});
    CHECK(e.strides() == Strides{1, 0});
    CHECK(values(e) == std::vector<float>{0, 0, 1, 1, 2, 2});
}

TEST_CASE("reshape is a view when strides allow, a copy otherwise") {
    Tensor base = Tensor::arange(0, 24).reshape({2, 3, 4});
    CHECK(base.reshape({6, 4}).same_storage(base));
    CHECK(base.reshape({6, -1}).shape() == Shape{6, 4});
    Tensor t = base.transpose(1, 2);  // (2, 4, 3), not contiguous
    CHECK_FALSE(t.reshape({2, 12}).same_storage(base));
    CHECK(t.reshape({2, 12}).to_vector<float>()[1] == 4.0f);
    CHECK(base.slice(0, 1, 2).view({3, 4}).same_storage(base));
    CHECK_THROWS_WITH_AS(t.view({24}), doctest::Contains("[view] cannot view"), Error);
    CHECK_THROWS_WITH_AS(base.reshape({5, -1}), doctest::Contains("[reshape]"), Error);
    CHECK_THROWS_AS(base.reshape({-1, -1}), Error);
}

TEST_CASE("contiguous, clone, dtype conversion") {
    Tensor t = Tensor::arange(0, 6).reshape({2, 3}).transpose(0, 1);
    Tensor c = t.contiguous();
    CHECK(c.is_contiguous());
    CHECK(values(c) == std::vector<float>{0, 3, 1, 4, 2, 5});
    CHECK(c.contiguous().same_storage(c));
    Tensor k = c.clone();
    CHECK_FALSE(k.same_storage(c));
    Tensor i = Tensor::from_vector(std::vector<float>{1.7f, -2.2f}, {2}).to(DType::I32);
    CHECK(i.to_vector<int32_t>() == std::vector<int32_t>{1, -2});
    CHECK_THROWS_WITH_AS(i.to_vector<float>(), doctest::Contains("int32"), Error);
}

TEST_CASE("broadcasting shapes and errors that name the op and both shapes") {
    CHECK(broadcast_shapes({3, 1, 5}, {4, 1}, "t") == Shape{3, 4, 5});
    CHECK(broadcast_shapes({}, {2}, "t") == Shape{2});
    Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4});
    CHECK_THROWS_WITH_AS(add(a, b), "[add] shapes (2, 3) and (4,) do not broadcast", Error);
    CHECK_THROWS_WITH_AS(matmul(a, Tensor::ones({2, 2})), doctest::Contains("[matmul] shapes (2, 3) and (2, 2)"),
                         Error);
    CHECK_THROWS_WITH_AS(a.permute({0}), doctest::Contains("[permute]"), Error);
    CHECK_THROWS_WITH_AS(a.slice(2, 0, 1), doctest::Contains("out of range"), Error);
    CHECK_THROWS_WITH_AS(cat({a, b}, 0), doctest::Contains("[cat]"), Error);
    CHECK_THROWS_WITH_AS(sigmoid(Tensor::zeros({2}, DType::I32)), doctest::Contains("expects float32"), Error);
    std::vector<int32_t> bad{0, 5};
    CHECK_THROWS_WITH_AS(index_select(a, 1, Tensor::from_vector(bad, {2})),
                         doctest::Contains("index 5 is out of range"), Error);
}

TEST_CASE("cuda device in a CPU-only build or without a GPU fails clearly") {
    if (cuda_available()) return;
#ifndef FOCAL_WITH_CUDA
    CHECK_THROWS_WITH_AS(Tensor::zeros({2}).to(Device::CUDA), doctest::Contains("built without CUDA"), Error);
#else
    CHECK_THROWS_AS(Tensor::zeros({2}).to(Device::CUDA), Error);
#endif
}

TEST_CASE("seeded random numbers are reproducible and well distributed") {
    Generator g1(42), g2(42), g3(43);
    std::vector<float> a = values(Tensor::randn({1000}, g1)), b = values(Tensor::randn({1000}, g2));
    CHECK(a == b);
    CHECK(a != values(Tensor::randn({1000}, g3)));
    CHECK(values(Tensor::randn({1000}, g1)) != a);  // the generator advanced
    Generator g(5);
    Tensor n = Tensor::randn({100000}, g);
    CHECK(mean(n).item() == doctest::Approx(0.0).epsilon(0.02).scale(1));
    CHECK(mean(n * n).item() == doctest::Approx(1.0).epsilon(0.02));
    Tensor u = Tensor::rand({100000}, g);
    CHECK(min(u).item() >= 0.0f);
    CHECK(max(u).item() < 1.0f);
    CHECK(mean(u).item() == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("printing") {
    std::ostringstream out;
    out << Tensor::arange(0, 4).reshape({2, 2});
    CHECK(out.str().find("[[0.0000, 1.0000]") != std::string::npos);
    CHECK(out.str().find("shape=(2, 2)") != std::string::npos);
    std::ostringstream big;
    big << Tensor::arange(0, 100);
    CHECK(big.str().find("...") != std::string::npos);
}
