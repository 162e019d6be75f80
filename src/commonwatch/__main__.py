from commonwatch.cli import main

raise SystemExit(main())
