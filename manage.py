#!/usr/bin/env python
from promisedesk.cli import main

if __name__ == "__main__":
    main()
