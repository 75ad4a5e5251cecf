import subprocess
import sys


def test_import_is_torch_free_and_light():
    code = (
        "import sys, archcalc; archcalc.analyze('vgg16'); "
        "heavy = [m for m in ('torch', 'torchvision', 'numpy', 'matplotlib', 'sympy') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
