from xlrate.cli import main

main()
