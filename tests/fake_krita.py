"""A small stand-in for Krita's Document/Node API (RGBA U8 only), for fast unit tests."""
from __future__ import annotations

import uuid

import numpy as np


class Rect:
    def __init__(self, x: int, y: int, w: int, h: int):
        self._r = (x, y, w, h)

    def x(self): return self._r[0]
    def y(self): return self._r[1]
    def width(self): return self._r[2]
    def height(self): return self._r[3]


class Uid:
    def __init__(self):
        self._s = "{" + str(uuid.uuid4()) + "}"

    def toString(self):
        return self._s


class Node:
    def __init__(self, doc: Document, name: str, kind: str = "paintlayer"):
        self.doc, self._name, self.kind = doc, name, kind
        self.px = np.zeros((doc.h, doc.w, 4), np.uint8)  # BGRA, as Krita stores integer RGBA
        self.parent: Node | None = None
        self.children: list[Node] = []
        self.uid = Uid()
        self._opacity, self._visible, self._blend, self._label = 255, True, "normal", 0

    def type(self): return self.kind
    def name(self): return self._name
    def setName(self, n): self._name = n
    def uniqueId(self): return self.uid
    def colorModel(self): return "RGBA"
    def colorDepth(self): return "U8"
    def colorProfile(self): return "sRGB-elle-V2-srgbtrc.icc"
    def parentNode(self): return self.parent
    def childNodes(self): return list(self.children)
    def opacity(self): return self._opacity
    def setOpacity(self, v): self._opacity = v
    def visible(self): return self._visible
    def setVisible(self, v): self._visible = v
    def blendingMode(self): return self._blend
    def setBlendingMode(self, v): self._blend = v
    def colorLabel(self): return self._label
    def setColorLabel(self, v): self._label = v

    def bounds(self) -> Rect:
        ys, xs = np.nonzero(self.px[..., 3])
        if len(ys) == 0:
            return Rect(0, 0, 0, 0)
        return Rect(xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)

    def pixelData(self, x, y, w, h) -> bytes:
        return self.px[y:y + h, x:x + w].tobytes()

    def projectionPixelData(self, x, y, w, h) -> bytes:
        return self.pixelData(x, y, w, h)

    def setPixelData(self, data, x, y, w, h) -> None:
        self.px[y:y + h, x:x + w] = np.frombuffer(data, np.uint8).reshape(h, w, 4)

    def addChildNode(self, child: Node, above: Node | None) -> bool:
        child.parent = self
        self.children.insert(self.children.index(above) + 1 if above else len(self.children), child)
        return True

    def remove(self) -> bool:
        self.parent.children.remove(self)
        self.parent = None
        return True


class Document:
    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.root = Node(self, "root", "grouplayer")
        self.annotations: dict[str, bytes] = {}
        self.sel: Rect | None = None
        self.active: Node | None = None

    def width(self): return self.w
    def height(self): return self.h
    def rootNode(self): return self.root
    def selection(self): return self.sel
    def createNode(self, name, kind): return Node(self, name, kind)
    def annotation(self, key): return self.annotations.get(key, b"")
    def setAnnotation(self, key, description, data): self.annotations[key] = bytes(data)
    def refreshProjection(self): pass
    def activeNode(self): return self.active
    def resolution(self): return 300
    def createVectorLayer(self, name): return VectorLayer(self, name)

    def add_sketch(self, grey: np.ndarray, colour=(0, 0, 0), name: str = "Sketch") -> Node:
        """A sketch layer: ink of `colour` (RGB) whose coverage is 255 - grey."""
        node = self.createNode(name, "paintlayer")
        node.px[..., 0], node.px[..., 1], node.px[..., 2] = colour[2], colour[1], colour[0]
        node.px[..., 3] = 255 - grey
        self.root.addChildNode(node, None)
        self.active = node
        return node


class VectorLayer(Node):
    """A vector layer: keeps the SVG it was given, one shape per <path>."""

    def __init__(self, doc: Document, name: str):
        super().__init__(doc, name, "vectorlayer")
        self.svg: list[str] = []

    def addShapesFromSvg(self, svg: str):
        self.svg.append(svg)
        return [object()] * svg.count("<path")

    def shapes(self):
        return [object()] * sum(s.count("<path") for s in self.svg)


class App:
    """Krita.instance(): the settings store and the active document."""

    def __init__(self, document: Document | None = None, app_data: str = ""):
        self.document = document
        self.store: dict[tuple[str, str], str] = {}
        self.app_data = app_data
        self.extensions: list = []
        self.factories: list = []

    def version(self): return "5.3.4"

    def readSetting(self, group, key, default): return self.store.get((group, key), default)
    def writeSetting(self, group, key, value): self.store[(group, key)] = value
    def activeDocument(self): return self.document
    def getAppDataLocation(self): return self.app_data
    def addExtension(self, extension): self.extensions.append(extension)
    def addDockWidgetFactory(self, factory): self.factories.append(factory)
