from handviewer.cli import main

raise SystemExit(main())
