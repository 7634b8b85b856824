#include "graphlayout.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <unordered_map>

namespace paudm::ui {

GraphLayout layoutGraph(const std::vector<LayoutNode>& nodes, const std::vector<std::pair<std::int64_t, std::int64_t>>& edges,
                        bool byTask) {
    const int n = static_cast<int>(nodes.size());
    std::unordered_map<std::int64_t, int> index;
    for (int i = 0; i < n; ++i) index[nodes[static_cast<std::size_t>(i)].id] = i;
    std::vector<std::vector<int>> children(static_cast<std::size_t>(n)), parents(static_cast<std::size_t>(n));
    std::vector<int> indegree(static_cast<std::size_t>(n), 0);
    for (const auto& [p, c] : edges) {
        const auto a = index.find(p), b = index.find(c);
        if (a == index.end() || b == index.end() || a->second == b->second) continue;
        children[static_cast<std::size_t>(a->second)].push_back(b->second);
        parents[static_cast<std::size_t>(b->second)].push_back(a->second);
        ++indegree[static_cast<std::size_t>(b->second)];
    }
    // Longest path from the sources, in topological order (Kahn). Nodes left over sit on a
    // cycle: they keep the layer reached so far.
    std::vector<int> layer(static_cast<std::size_t>(n), 0);
    std::queue<int> ready;
    for (int i = 0; i < n; ++i)
        if (indegree[static_cast<std::size_t>(i)] == 0) ready.push(i);
    while (!ready.empty()) {
        const int v = ready.front();
        ready.pop();
        for (int c : children[static_cast<std::size_t>(v)]) {
            layer[static_cast<std::size_t>(c)] = std::max(layer[static_cast<std::size_t>(c)], layer[static_cast<std::size_t>(v)] + 1);
            if (--indegree[static_cast<std::size_t>(c)] == 0) ready.push(c);
        }
    }

    GraphLayout g;
    g.groupOf.assign(static_cast<std::size_t>(n), -1);
    std::map<std::pair<int, std::string>, int> grouped;
    for (int i = 0; i < n; ++i) {
        const int l = layer[static_cast<std::size_t>(i)];
        int gi;
        if (byTask) {
            const auto key = std::make_pair(l, nodes[static_cast<std::size_t>(i)].task);
            const auto it = grouped.find(key);
            if (it == grouped.end()) {
                gi = static_cast<int>(g.groups.size());
                grouped.emplace(key, gi);
                g.groups.push_back({{}, l, 0});
            } else {
                gi = it->second;
            }
        } else {
            gi = static_cast<int>(g.groups.size());
            g.groups.push_back({{}, l, 0});
        }
        g.groups[static_cast<std::size_t>(gi)].members.push_back(i);
        g.groupOf[static_cast<std::size_t>(i)] = gi;
        g.layers = std::max(g.layers, l + 1);
    }

    std::map<std::pair<int, int>, int> groupEdges;
    for (int v = 0; v < n; ++v)
        for (int c : children[static_cast<std::size_t>(v)]) {
            const int a = g.groupOf[static_cast<std::size_t>(v)], b = g.groupOf[static_cast<std::size_t>(c)];
            if (a != b) ++groupEdges[{a, b}];
        }
    std::vector<std::vector<int>> groupParents(g.groups.size()), groupChildren(g.groups.size());
    for (const auto& [e, count] : groupEdges) {
        g.edges.push_back(e);
        g.edgeCounts.push_back(count);
        groupParents[static_cast<std::size_t>(e.second)].push_back(e.first);
        groupChildren[static_cast<std::size_t>(e.first)].push_back(e.second);
    }

    // Order within layers: start from creation order, then barycentres down and back up.
    std::vector<std::vector<int>> byLayer(static_cast<std::size_t>(g.layers));
    for (int gi = 0; gi < static_cast<int>(g.groups.size()); ++gi)
        byLayer[static_cast<std::size_t>(g.groups[static_cast<std::size_t>(gi)].layer)].push_back(gi);
    auto place = [&](int l) {
        auto& row = byLayer[static_cast<std::size_t>(l)];
        for (int k = 0; k < static_cast<int>(row.size()); ++k) g.groups[static_cast<std::size_t>(row[static_cast<std::size_t>(k)])].order = k;
    };
    for (int l = 0; l < g.layers; ++l) place(l);
    auto sweep = [&](int l, const std::vector<std::vector<int>>& neighbours) {
        auto& row = byLayer[static_cast<std::size_t>(l)];
        std::vector<double> key(g.groups.size(), 0);
        for (int gi : row) {
            const auto& nb = neighbours[static_cast<std::size_t>(gi)];
            double sum = 0;
            for (int o : nb) sum += g.groups[static_cast<std::size_t>(o)].order;
            key[static_cast<std::size_t>(gi)] = nb.empty() ? g.groups[static_cast<std::size_t>(gi)].order : sum / static_cast<double>(nb.size());
        }
        std::stable_sort(row.begin(), row.end(), [&](int a, int b) { return key[static_cast<std::size_t>(a)] < key[static_cast<std::size_t>(b)]; });
        place(l);
    };
    for (int l = 1; l < g.layers; ++l) sweep(l, groupParents);
    for (int l = g.layers - 2; l >= 0; --l) sweep(l, groupChildren);
    for (const auto& row : byLayer) g.widest = std::max(g.widest, static_cast<int>(row.size()));
    return g;
}

} // namespace paudm::ui
