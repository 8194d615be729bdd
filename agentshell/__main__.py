from agentshell.cli.main import main

main()
