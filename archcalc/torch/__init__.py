"""Everything in archcalc that needs PyTorch lives here (pip install 'archcalc[torch]').

The analytical core never imports this package.
"""
