// Tensors on two devices in one op: an Error naming the op and both devices, before any
// kernel could read host memory as device memory (or the other way round). Every op that
// takes two tensors checks; composed ops (linear, group_norm, the losses) meet the check
// in the ops they are made of. A model on CUDA handed a CPU image is the usual way to meet it.
#include <doctest/doctest.h>

#include "detector/retinanet.h"
#include "engine/engine.h"

using namespace focal;

TEST_CASE("an op on a CPU and a CUDA tensor names the op and both devices") {
    Generator gen(5);
    const Tensor a = Tensor::randn({2, 3}, gen), b = a.to(Device::CUDA);
    const Tensor index = Tensor::from_vector(std::vector<int32_t>{0, 1}, {2});
    const Tensor x = Tensor::randn({1, 2, 8, 8}, gen).to(Device::CUDA), w = Tensor::randn({3, 2, 3, 3}, gen);
    const auto devices = [](const char* op) {
        return doctest::Contains((std::string("[") + op + "] tensors are on different devices (").c_str());
    };
    CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("[add] tensors are on different devices (cpu and cuda)"), Error);
    CHECK_THROWS_WITH_AS(mul(b, a), doctest::Contains("[mul] tensors are on different devices (cuda and cpu)"), Error);
    CHECK_THROWS_WITH_AS(where(gt(a, 0.0f), a, b), devices("where"), Error);
    CHECK_THROWS_WITH_AS(matmul(a, b.transpose(0, 1)), devices("matmul"), Error);
    CHECK_THROWS_WITH_AS(cat({a, b}, 0), devices("cat"), Error);
    CHECK_THROWS_WITH_AS(index_select(b, 0, index), devices("index_select"), Error);
    CHECK_THROWS_WITH_AS(gather(b, 1, Tensor::zeros({2, 3}, DType::I32)), devices("gather"), Error);
    CHECK_THROWS_WITH_AS(conv2d(x, w), devices("conv2d"), Error);
    CHECK_THROWS_WITH_AS(conv2d(x, w.to(Device::CUDA), Tensor::zeros({3})), devices("conv2d"), Error);
    const Tensor ones = Tensor::ones({2}), zeros = Tensor::zeros({2});
    CHECK_THROWS_WITH_AS(batch_norm(x, ones, zeros, zeros, ones, true, 0.1f, 1e-5f), devices("batch_norm"), Error);
    Tensor target = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH_AS(target.copy_(b), devices("copy_"), Error);
    CHECK_THROWS_WITH_AS(target.add_(b), devices("add_"), Error);
    CHECK(add(a, b.to(Device::CPU)).device() == Device::CPU);  // moved first, it works

    Generator init(0);
    detector::RetinaNet model(detector::retinanet_preset("tiny", 4), init);
    model.to(Device::CUDA);
    CHECK_THROWS_WITH_AS(model.forward(Tensor::zeros({1, 3, 256, 256})),
                         doctest::Contains("[conv2d] tensors are on different devices (cpu and cuda)"), Error);
}
