"""Installs a plugin zip with the Krita's own importer code (Tools > Scripts > Import Python
Plugin from File), run by that Krita's Python: python3 import_zip.py ZIP RESOURCES.
Prints the imported plugins' names as JSON."""
import builtins
import importlib.util
import json
import sys

builtins.i18n = lambda text: text  # Krita's importer asks its host for translations (5.2 and later)
spec = importlib.util.spec_from_file_location("plugin_importer", "/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")
importer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(importer)
imported = importer.PluginImporter(sys.argv[1], sys.argv[2], lambda plugin: True).import_all()
print(json.dumps([p["name"] for p in imported]))
