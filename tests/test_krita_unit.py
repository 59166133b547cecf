"""Plugin logic against a fake Krita (fast); tests/test_krita.py runs the real thing."""
import numpy as np
import pytest

from smart_lineart.krita import document as krita_document
from smart_lineart.krita.controller import backend_choices, preview_window
from smart_lineart.krita.pixels import bytes_to_sketch, lineart_to_bytes
from smart_lineart.settings import Settings
from tests.fake_krita import Document, Rect


def test_integer_rgba_is_read_as_bgra():
    bgra = np.array([[[255, 0, 0, 255], [0, 0, 255, 255]]], np.uint8)  # blue, red in memory order
    grey, _ = bytes_to_sketch(bgra.tobytes(), 2, 1, "RGBA", "U8")
    assert grey.tolist() == [[18, 54]]  # 0.0722 * 255 (blue), 0.2126 * 255 (red)


def test_sixteen_bit_and_grey_alpha():
    px = np.array([[[0, 0, 0, 32768]]], np.uint16)  # half-transparent black, 16 bit
    assert bytes_to_sketch(px.tobytes(), 1, 1, "RGBA", "U16")[0].tolist() == [[127]]
    ga = np.array([[[0, 255], [200, 0]]], np.uint8)  # black opaque, transparent
    grey, blue = bytes_to_sketch(ga.tobytes(), 2, 1, "GRAYA", "U8")
    assert grey.tolist() == [[0, 255]] and blue is None  # a grey layer has no blue plane


def test_light_blue_goes_to_the_blue_plane():
    """Non-photo blue (BGRA in memory) fades to paper in grey and shows in the blue plane;
    graphite has no blue, and a transparent blue pixel is nothing."""
    bgra = np.array([[[237, 222, 163, 255], [60, 60, 60, 255], [237, 222, 163, 0]]], np.uint8)
    grey, blue = bytes_to_sketch(bgra.tobytes(), 3, 1, "RGBA", "U8")
    assert grey[0, 0] > 225 and grey[0, 1] == 60 and grey[0, 2] == 255
    assert blue is not None and blue[0, 0] > 15 and blue[0, 1] == 0 and blue[0, 2] == 0


def test_lineart_bytes_are_black_ink_in_alpha():
    line = np.array([[0, 255, 128]], np.uint8)
    assert np.frombuffer(lineart_to_bytes(line, "RGBA", "U8"), np.uint8).reshape(3, 4).tolist() == \
        [[0, 0, 0, 255], [0, 0, 0, 0], [0, 0, 0, 127]]
    assert np.frombuffer(lineart_to_bytes(line, "RGBA", "U16"), np.uint16)[3] == 65535
    with pytest.raises(ValueError):
        lineart_to_bytes(line, "LABA", "U16")


@pytest.fixture()
def doc(sketch):
    d = Document(sketch.shape[1], sketch.shape[0])
    d.add_sketch(sketch, name="Sketch 1")
    return d


def test_region_is_content_limited_by_selection(doc):
    sketch = doc.root.children[0]
    b = sketch.bounds()
    assert krita_document.region(doc, sketch) == (b.x(), b.y(), b.width(), b.height())
    doc.sel = Rect(b.x() + 10, b.y() + 20, 100, 80)
    assert krita_document.region(doc, sketch) == (b.x() + 10, b.y() + 20, 100, 80)
    doc.sel = Rect(-50, -50, 20, 20)  # outside the content: nothing to process
    assert krita_document.region(doc, sketch)[2:] == (0, 0)


def test_unusable_nodes_raise_and_change_nothing(doc):
    empty = doc.createNode("Empty", "paintlayer")
    doc.root.addChildNode(empty, None)
    for node, message in [(empty, "empty"), (doc.createNode("V", "vectorlayer"), "vector layer"),
                          (doc.createNode("M", "transparencymask"), "paint layer"), (None, "no layer")]:
        with pytest.raises(ValueError, match=message):
            krita_document.read_sketch(doc, node)
    assert [n.name() for n in doc.root.children] == ["Sketch 1", "Empty"]


def test_off_canvas_content_and_flat_fill_layers_are_told_apart_from_empty(doc):
    class OffCanvas:  # content that lies entirely left of the canvas
        def bounds(self): return Rect(-500, 10, 100, 100)

    off = doc.createNode("Off", "paintlayer")
    off.bounds = OffCanvas().bounds
    with pytest.raises(ValueError, match="outside"):
        krita_document.read_sketch(doc, off)
    fill = doc.createNode("Fill", "filllayer")  # a fill layer covers the canvas, its bounds say nothing
    fill.bounds = lambda: Rect(0, 0, 0, 0)
    fill.px[...] = (128, 128, 128, 255)
    with pytest.raises(ValueError, match="one flat colour"):
        krita_document.read_sketch(doc, fill)
    fill.px[20:23, :, :3] = 0  # a line on the fill: it is read like any layer
    grey, _, where = krita_document.read_sketch(doc, fill)
    assert where == (0, 0, doc.w, doc.h) and grey[21].max() < 10


def test_write_and_rerun_replace_the_linked_layer(doc, sketch):
    s = doc.root.children[0]
    h, w = sketch.shape
    lines = np.full((h, w), 255, np.uint8)
    lines[10:13, :] = 0
    first = krita_document.write_lineart(doc, s, lines, (0, 0, w, h))
    assert [n.name() for n in doc.root.children] == ["Sketch 1", "Sketch 1 — lineart"]
    assert first.px[11, 5].tolist() == [0, 0, 0, 255] and first.px[20, 5, 3] == 0
    first.setName("inks")
    first.setOpacity(100)
    above = doc.createNode("colour", "paintlayer")
    doc.root.addChildNode(above, first)
    second = krita_document.write_lineart(doc, s, 255 - lines, (0, 0, w, h))
    assert [n.name() for n in doc.root.children] == ["Sketch 1", "inks", "colour"]
    assert second is not first and second.opacity() == 100
    assert krita_document.linked_lineart(doc, s) is second


def test_vector_output_closes_gaps_when_asked(doc, sketch):
    """Settings.close_gaps reaches the strokes: a ring with a gap gets one joining stroke more."""
    from PIL import Image, ImageDraw
    s = doc.root.children[0]
    h, w = sketch.shape
    img = Image.new("L", (w, h), 255)
    ImageDraw.Draw(img).arc((w // 2 - 40, h // 2 - 40, w // 2 + 40, h // 2 + 40), 20, 350, fill=0, width=3)
    lines = np.asarray(img)
    counts = [krita_document.write_lineart(doc, s, lines, (0, 0, w, h), Settings(output="vector", close_gaps=gap))
              .shapes() for gap in (0.0, 30.0)]
    assert len(counts[1]) == len(counts[0]) + 1


def test_docker_settings_round_trip_and_survive_bad_values():
    store = {}
    s = Settings(thickness=4.5, faint=0.2, brush="pencil", backend="onnxruntime", device="CPU", max_memory_mb=512)
    s.save(lambda group, key, value: store.__setitem__((group, key), value))
    assert Settings.load(lambda group, key, default: store.get((group, key), default)) == s
    store[("smart_lineart", "thickness")] = "thick"
    assert Settings.load(lambda g, k, d: store.get((g, k), d)).thickness == 3.0


def test_backend_choices_offer_auto_and_grey_out_missing_devices():
    choices = backend_choices()
    assert choices[0][1:] == ("auto", "auto", True)
    assert any(c[1:] == ("onnxruntime", "CPU", True) for c in choices)
    assert any(not c[3] for c in choices)  # this machine has no GPU/NPU: greyed out


def test_preview_window_stays_inside_document():
    assert preview_window((10, 10), (1000, 800)) == (0, 0, 384, 384)
    assert preview_window((990, 790), (1000, 800)) == (616, 416, 384, 384)
    assert preview_window((50, 50), (100, 60)) == (0, 0, 100, 60)


def test_desktop_entry_and_manual():
    import configparser

    from tests.conftest import ROOT
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "smart_lineart.desktop")
    d = entry["Desktop Entry"]
    assert d["ServiceTypes"] == "Krita/PythonPlugin" and d["X-KDE-Library"] == "smart_lineart"
    assert d["X-Python-2-Compatible"] == "false" and d["Name"] and d["Comment"]
    manual = ROOT / "smart_lineart" / d["X-Krita-Manual"]
    assert manual.is_file()
    from xml.etree import ElementTree  # Krita shows it as (X)HTML: it must parse
    ElementTree.parse(manual)
