import importlib
import pkgutil
import subprocess
import sys

import numerate


def test_every_module_imports():
    for info in pkgutil.walk_packages(numerate.__path__, "numerate."):
        if info.name != "numerate.__main__":
            importlib.import_module(info.name)


def test_import_numerate_is_light():
    code = "import sys, numerate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
