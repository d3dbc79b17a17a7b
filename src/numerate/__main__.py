from numerate.cli import main

raise SystemExit(main())
