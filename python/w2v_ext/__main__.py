"""`python -m w2v_ext` runs the w2v-ext command line."""
import sys

from .cli import main

sys.exit(main())
