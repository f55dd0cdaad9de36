"""The choreography as a self-contained SVG, laid out here in pure Python (no Graphviz binary needed).

Layout: a layered (Sugiyama-style) drawing, left to right. Back edges found by a depth-first walk from
the start events are set aside so the rest is acyclic; each node's layer is its longest path from a
source; nodes within a layer are ordered by a few barycenter sweeps to limit crossings; edges are cubic
curves, back edges loop underneath. Topologies are small (tens of nodes), so this stays simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from corps.topology.graph import TopologyGraph
from corps.topology.mermaid import step_caption
from corps.topology.models import Topology

__all__ = ["to_svg"]

_CHAR_W = 7.2
_LINE_H = 16
_PAD = 12
_GAP_X = 70
_GAP_Y = 26
_MARGIN = 24
_SWEEPS = 6


@dataclass
class _Node:
    key: str
    lines: list[str]
    kind: str  # "event" | "step"
    style: str
    layer: int = 0
    order: float = 0.0
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        return (
            max(len(line) for line in self.lines) * _CHAR_W + 2 * _PAD + (16 if self.kind == "event" else 0)
        )

    @property
    def height(self) -> float:
        return len(self.lines) * _LINE_H + _PAD


def _build(topology: Topology) -> tuple[dict[str, _Node], list[tuple[str, str, str]]]:
    graph = TopologyGraph.of(topology)
    nodes: dict[str, _Node] = {}
    for event in graph.events_in_order():
        style = "event"
        if event in graph.compensators:
            style = "undo"
        if event in topology.start:
            style = "start"
        if event in topology.complete:
            style = "done"
        nodes[f"e:{event}"] = _Node(f"e:{event}", [event], "event", style)
    for name, step in topology.steps.items():
        style = "irreversible" if step.irreversible else "step"
        nodes[f"s:{name}"] = _Node(f"s:{name}", step_caption(topology, name), "step", style)
    edges: list[tuple[str, str, str]] = []
    for name, step in topology.steps.items():
        edges.append((f"e:{step.on}", f"s:{name}", "flow"))
        edges.extend((f"s:{name}", f"e:{event}", "flow") for event in step.emits)
        if step.compensation is not None:
            edges.append((f"s:{name}", f"e:{step.compensation.event}", "undo"))
    return nodes, edges


def _back_edges(nodes: dict[str, _Node], edges: list[tuple[str, str, str]], roots: list[str]) -> set[int]:
    out: dict[str, list[int]] = {key: [] for key in nodes}
    for index, (src, _dst, _kind) in enumerate(edges):
        out[src].append(index)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[int] = set()
    for root in [*roots, *nodes]:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, position = stack.pop()
            if position < len(out[node]):
                stack.append((node, position + 1))
                index = out[node][position]
                target = edges[index][1]
                if state.get(target) == 1:
                    back.add(index)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[node] = 2
    return back


def _layout(nodes: dict[str, _Node], edges: list[tuple[str, str, str]], back: set[int]) -> None:
    forward = [(s, d) for i, (s, d, _k) in enumerate(edges) if i not in back]
    for _ in range(len(nodes)):
        changed = False
        for src, dst in forward:
            if nodes[dst].layer < nodes[src].layer + 1:
                nodes[dst].layer = nodes[src].layer + 1
                changed = True
        if not changed:
            break
    layers: dict[int, list[_Node]] = {}
    for position, node in enumerate(nodes.values()):
        node.order = position
        layers.setdefault(node.layer, []).append(node)
    for sweep in range(_SWEEPS):
        neighbours: dict[str, list[str]] = {key: [] for key in nodes}
        for src, dst in forward:
            if sweep % 2 == 0:
                neighbours[dst].append(src)
            else:
                neighbours[src].append(dst)
        for layer in layers.values():
            for node in layer:
                linked = neighbours[node.key]
                if linked:
                    node.order = sum(nodes[k].order for k in linked) / len(linked)
            layer.sort(key=lambda n: n.order)
            for position, node in enumerate(layer):
                node.order = position
    x = float(_MARGIN)
    heights = {
        n: sum(node.height for node in layer) + _GAP_Y * (len(layer) - 1) for n, layer in layers.items()
    }
    tallest = max(heights.values())
    for number in sorted(layers):
        layer = layers[number]
        y = _MARGIN + (tallest - heights[number]) / 2
        for node in layer:
            node.x, node.y = x, y
            y += node.height + _GAP_Y
        x += max(node.width for node in layer) + _GAP_X


_STYLE = """
  text { font: 13px sans-serif; fill: #1d1d1f; }
  .event rect { fill: #f4f4f6; stroke: #6b6b73; }
  .start rect { fill: #d9f2d9; stroke: #2e7d32; }
  .done rect { fill: #e3ecfa; stroke: #1f4e9c; stroke-width: 3; }
  .undo rect { fill: #fff1dc; stroke: #c76b00; stroke-dasharray: 4 3; }
  .step rect { fill: #ffffff; stroke: #3a3a40; }
  .irreversible rect { fill: #ffffff; stroke: #b3261e; stroke-width: 2; }
  .step .title, .irreversible .title { font-weight: bold; }
  path.flow { fill: none; stroke: #55555c; stroke-width: 1.4; marker-end: url(#arrow); }
  path.undo { fill: none; stroke: #c76b00; stroke-width: 1.4; stroke-dasharray: 5 4;
              marker-end: url(#arrow); }
"""


def to_svg(topology: Topology) -> str:
    """Draw ``topology`` as an SVG document (same legend as :func:`~corps.topology.mermaid.to_mermaid`)."""
    nodes, edges = _build(topology)
    roots = [f"e:{event}" for event in topology.start if f"e:{event}" in nodes]
    back = _back_edges(nodes, edges, roots)
    _layout(nodes, edges, back)
    width = max(n.x + n.width for n in nodes.values()) + _MARGIN
    bottom = max(n.y + n.height for n in nodes.values())
    right: dict[int, float] = {}
    for n in nodes.values():
        right[n.layer] = max(right.get(n.layer, 0.0), n.x + n.width)
    height = bottom + _MARGIN + 50 * bool(back)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">',
        f"<title>{escape(topology.workflow.name)} v{topology.workflow.version}</title>",
        f"<style>{_STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#55555c"/></marker></defs>',
    ]
    for index, (src_key, dst_key, kind) in enumerate(edges):
        src, dst = nodes[src_key], nodes[dst_key]
        if index in back:
            # out of the source's right side, down the gap, under every node, up into the target
            x1, y1 = src.x + src.width, src.y + src.height / 2
            x2, y2 = dst.x + dst.width / 2, dst.y + dst.height
            gap = right[src.layer] + _GAP_X / 2
            low = bottom + 24 + 10 * (index % 3)
            path = (
                f"M{x1:.1f},{y1:.1f} C{gap:.1f},{y1:.1f} {gap:.1f},{y1:.1f} {gap:.1f},{(y1 + low) / 2:.1f} "
                f"C{gap:.1f},{low:.1f} {gap:.1f},{low:.1f} {x1:.1f},{low:.1f} L{x2 + 12:.1f},{low:.1f} "
                f"C{x2:.1f},{low:.1f} {x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}"
            )
        else:
            x1, y1 = src.x + src.width, src.y + src.height / 2
            x2, y2 = dst.x, dst.y + dst.height / 2
            bend = (x2 - x1) / 2
            path = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        out.append(f'<path class="{kind}" d="{path}"/>')
    for node in nodes.values():
        radius = node.height / 2 if node.kind == "event" else 4
        out.append(f'<g class="{node.style}" data-node="{escape(node.key)}">')
        out.append(
            f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" height="{node.height:.1f}" '
            f'rx="{radius:.1f}"/>'
        )
        for line_no, line in enumerate(node.lines):
            css = ' class="title"' if line_no == 0 else ""
            tx, ty = node.x + node.width / 2, node.y + _PAD / 2 + _LINE_H * (line_no + 1) - 4
            out.append(f'<text{css} x="{tx:.1f}" y="{ty:.1f}" text-anchor="middle">{escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
