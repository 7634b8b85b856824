#pragma once
// Layers for a job DAG (pure computation, no Qt widgets): each node goes one layer right of
// its deepest parent (longest path from the sources, so every edge points right), and nodes
// in a layer are ordered by the mean position of their parents (the barycentre heuristic,
// one sweep each way), which untangles the fan-out / fan-in shapes of the pipelines. With
// `byTask`, the nodes of one task type in one layer become one group.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace paudm::ui {

struct LayoutNode {
    std::int64_t id = 0;
    std::string task;
};

struct LayoutGroup {
    std::vector<int> members; ///< indices into the input nodes
    int layer = 0;
    int order = 0; ///< position within its layer
};

struct GraphLayout {
    std::vector<LayoutGroup> groups;
    std::vector<std::pair<int, int>> edges; ///< between groups, each once, with how many node edges
    std::vector<int> edgeCounts;
    std::vector<int> groupOf;               ///< node index -> group index
    int layers = 0;
    int widest = 0; ///< groups in the largest layer
};

/// `edges` are (parent id, child id); edges to ids not among the nodes are ignored, and so is
/// any edge that would close a cycle (the database forbids them; a layout must not hang).
GraphLayout layoutGraph(const std::vector<LayoutNode>& nodes, const std::vector<std::pair<std::int64_t, std::int64_t>>& edges,
                        bool byTask);

} // namespace paudm::ui
