from punchline.cli import main

main()
