#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace focal {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

void Grads::Slot::operator+=(const Tensor& grad) {
    const Edge& edge = owner_.edges_[i_];
    if (!edge.needed()) return;
    Tensor g = grad.shape() == edge.shape ? grad : sum_to(grad, edge.shape);
    Tensor& slot = owner_.grads_[i_];
    slot = slot.defined() ? add(slot, g) : g;
}

Node::~Node() {
    // Unlink children we hold the last reference to and destroy them here, in a loop,
    // instead of letting each destructor recurse into the next.
    std::vector<std::shared_ptr<Node>> doomed;
    auto collect = [&doomed](std::vector<Edge>& edges) {
        for (Edge& e : edges)
            if (e.node && e.node.use_count() == 1) doomed.push_back(std::move(e.node));
    };
    collect(edges);
    while (!doomed.empty()) {
        std::shared_ptr<Node> node = std::move(doomed.back());
        doomed.pop_back();
        collect(node->edges);
    }
}

Tensor record(Tensor y, const char* name, std::vector<Tensor> inputs, BackwardFn backward) {
    if (!grad_enabled()) return y;
    bool any = false;
    for (const Tensor& x : inputs) any = any || (x.defined() && x.requires_grad());
    if (!any) return y;
    auto node = std::make_shared<Node>();
    node->name = name;
    node->edges.reserve(inputs.size());
    for (const Tensor& x : inputs) {
        Edge e;
        if (x.defined() && x.requires_grad()) {
            if (x.grad_fn()) e.node = x.grad_fn();
            else e.leaf = x.impl_ptr();
            e.shape = x.shape();
        }
        node->edges.push_back(std::move(e));
    }
    node->backward = std::move(backward);
    y.impl()->grad_fn = std::move(node);
    y.impl()->requires_grad = true;
    return y;
}

namespace {

// Nodes reachable from the roots, each after every node that feeds gradient into it
// (reverse post-order of iterative depth-first searches sharing one visited set).
std::vector<std::shared_ptr<Node>> topological_order(const std::vector<std::shared_ptr<Node>>& roots) {
    std::vector<std::shared_ptr<Node>> post_order;
    std::unordered_set<Node*> visited;
    for (const std::shared_ptr<Node>& root : roots) {
        if (!visited.insert(root.get()).second) continue;
        std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};  // node, next edge
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            if (next < node->edges.size()) {
                const std::shared_ptr<Node>& child = node->edges[next++].node;
                if (child && visited.insert(child.get()).second) stack.emplace_back(child, 0);
                continue;
            }
            post_order.push_back(std::move(node));
            stack.pop_back();
        }
    }
    return {post_order.rbegin(), post_order.rend()};
}

void accumulate_leaf(TensorImpl& leaf, const Tensor& g) {
    // A fresh tensor each time, so the gradient aliases no other tensor's storage, unless
    // the leaf names a buffer for it (Tensor::set_grad_buffer): then the gradient is copied
    // there, at the cost of the clone, and later ones (a parameter used twice, a second
    // backward) add into it in place.
    const bool in_buffer = leaf.grad_buffer.defined();
    if (!leaf.grad.defined()) leaf.grad = in_buffer ? leaf.grad_buffer.copy_(g) : g.clone();
    else if (in_buffer && leaf.grad.impl() == leaf.grad_buffer.impl()) leaf.grad.add_(g);
    else leaf.grad = add(leaf.grad, g);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& seed) { run_backward(std::vector{root}, std::vector{seed}); }

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds) {
    FOCAL_CHECK(roots.size() == seeds.size(), "[backward] ", roots.size(), " outputs but ", seeds.size(), " gradients");
    for (size_t i = 0; i < roots.size(); ++i) {
        FOCAL_CHECK(roots[i].defined() && seeds[i].defined(), "[backward] output ", i, " or its gradient is undefined");
        FOCAL_CHECK(roots[i].requires_grad(), "[backward] output ", i,
                    " does not require grad (no input of the "
                    "ops that made it requires grad, or it was made under NoGradGuard)");
        FOCAL_CHECK(seeds[i].shape() == roots[i].shape(), "[backward] gradient of shape ", shape_str(seeds[i].shape()),
                    " for output ", i, " of shape ", shape_str(roots[i].shape()));
    }
    NoGradGuard no_grad;  // backward closures compute with ops; record nothing
    // Seeds go to the nodes that made the roots (summed where roots share one), or straight
    // into a root that is itself a leaf.
    std::unordered_map<Node*, Tensor> pending;
    std::vector<std::shared_ptr<Node>> root_nodes;
    for (size_t i = 0; i < roots.size(); ++i) {
        if (roots[i].is_leaf()) {
            accumulate_leaf(*roots[i].impl(), seeds[i]);
            continue;
        }
        const std::shared_ptr<Node>& node = roots[i].grad_fn();
        auto [slot, fresh] = pending.try_emplace(node.get(), seeds[i]);
        if (!fresh) slot->second = add(slot->second, seeds[i]);
        root_nodes.push_back(node);
    }
    std::vector<std::shared_ptr<Node>> order = topological_order(root_nodes);
    root_nodes.clear();  // the order holds them now; released node by node below
    // Leaves with a grad-ready hook (Tensor::set_grad_ready_hook): how many edges of the nodes
    // still to run lead to each. When the last of them has run, the leaf's gradient is final.
    std::unordered_map<TensorImpl*, int> edges_left;
    for (const std::shared_ptr<Node>& node : order)
        for (const Edge& edge : node->edges)
            if (edge.leaf && edge.leaf->grad_ready) ++edges_left[edge.leaf.get()];
    const auto leaf_edges_done = [&edges_left](const Node& node) {
        if (edges_left.empty()) return;
        for (const Edge& edge : node.edges)
            if (edge.leaf && edge.leaf->grad_ready) {
                TensorImpl& leaf = *edge.leaf;
                if (--edges_left.at(&leaf) == 0 && leaf.grad.defined()) leaf.grad_ready();
            }
    };
    for (std::shared_ptr<Node>& node : order) {
        auto it = pending.find(node.get());
        if (it == pending.end()) {  // no gradient reached this node
            leaf_edges_done(*node);
            continue;
        }
        Tensor dy = std::move(it->second);
        pending.erase(it);
        FOCAL_CHECK(static_cast<bool>(node->backward), "[backward] the graph through '", node->name,
                    "' was already released by an earlier backward()");
        Grads grads(node->edges);
        {
            OpScope scope(node->name, " backward");
            node->backward(grads, dy);
        }
        for (size_t i = 0; i < node->edges.size(); ++i) {
            Tensor& g = grads.result(i);
            if (!g.defined()) continue;
            const Edge& edge = node->edges[i];
            if (edge.leaf) {
                accumulate_leaf(*edge.leaf, g);
            } else if (edge.node) {
                auto [slot, fresh] = pending.try_emplace(edge.node.get(), g);
                if (!fresh) slot->second = add(slot->second, g);
            }
        }
        leaf_edges_done(*node);
        // Release what this node held: its saved tensors (in the closure) and its edges.
        node->backward = nullptr;
        node->edges.clear();
        node.reset();
    }
}

}  // namespace focal
