"""Independent reference implementations: plain PyTorch models written from the papers and the
authors' released code, for the networks torchvision and timm lack.

Specs name them in `reference:` (``archcalc.torch.refs.resnet:resnet20_cifar``) and
`archcalc check` compares a spec with them. They ship with the package so that check works from
any installation. To stay an independent source of numbers they import only torch and
torchvision, never archcalc's spec, graph or layer code (tests/test_packaging.py checks this).
"""
