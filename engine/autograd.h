// Reverse-mode autodiff on a dynamic graph, recorded as ops run.
//
// Each op output that depends on a tensor requiring grad gets a Node: the op's name, one
// Edge per input, and the backward closure written right under the forward (docs/design.md, "Ops and their gradients").
// backward() walks the graph in topological order (iteratively: a chain of any depth is
// fine), calls each closure once with the gradient of the node's output, and releases the
// node's closure and edges as it goes, so the graph's memory is freed by the pass. A leaf
// with a grad-ready hook (Tensor::set_grad_ready_hook) has it called as soon as the last
// node with an edge to it has run, not at the end of the pass.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace focal {

// Where the gradient of one input goes: into the node that produced it, or into the leaf
// tensor itself. Both empty when the input needs no gradient.
struct Edge {
    std::shared_ptr<Node> node;
    std::shared_ptr<TensorImpl> leaf;
    Shape shape;  // the input's shape; gradients are summed down to it (broadcasting)
    bool needed() const { return node || leaf; }
};

// The gradients a backward closure produces, one slot per input. `g[i] += t` sums t down
// to input i's shape (undoing broadcasting) and accumulates; it is a no-op for an input
// that needs no gradient, and `g.needs(i)` lets a closure skip the work altogether.
class Grads {
public:
    explicit Grads(const std::vector<Edge>& edges) : edges_(edges), grads_(edges.size()) {}
    bool needs(size_t i) const { return edges_[i].needed(); }

    class Slot {
    public:
        Slot(Grads& owner, size_t i) : owner_(owner), i_(i) {}
        void operator+=(const Tensor& grad);

    private:
        Grads& owner_;
        size_t i_;
    };
    Slot operator[](size_t i) { return Slot(*this, i); }
    Tensor& result(size_t i) { return grads_[i]; }

private:
    const std::vector<Edge>& edges_;
    std::vector<Tensor> grads_;
};

using BackwardFn = std::function<void(Grads& g, const Tensor& dy)>;

struct Node {
    const char* name;
    std::vector<Edge> edges;
    BackwardFn backward;
    ~Node();  // iterative: destroying a 100,000-deep chain does not overflow the stack
};

// Attaches a backward closure to an op's output y when grad mode is on and some input
// requires grad; otherwise returns y untouched. The closure must capture only what
// backward needs, as detached tensors, never y itself (that would be a reference cycle).
Tensor record(Tensor y, const char* name, std::vector<Tensor> inputs, BackwardFn backward);

// Runs backward from `root` seeded with `seed` (same shape as root).
void run_backward(const Tensor& root, const Tensor& seed);
// One pass from several outputs at once, seeds[i] the gradient of roots[i] (PyTorch's
// torch.autograd.backward(tensors, grad_tensors)): the same gradients as backward() from
// sum_i <roots[i], seeds[i]>, without computing that sum. Nodes shared by the roots run once.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds);

// Grad mode: on by default, per thread. NoGradGuard turns it off for a scope.
bool grad_enabled();
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace focal
