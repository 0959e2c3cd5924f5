"""How a script's text becomes the translator's calls (`sluicegate.parser` is the entry).

    plainparse    the run path: Lark's tables read as plain data, our own lexer and LALR
                  loop; a script that parses never imports Lark
    parsertables  exports those tables from Lark's parser, once per grammar (needs Lark)
    tokens        the Token and Tree that plainparse makes (Lark's Token passes as one)
    fastparse     Lark's own parser with its per-token overhead taken out: positions for
                  the editor tooling, and the exact error of a script that does not parse
    parsercache   Lark's parser pickled once built, loaded instead of rebuilt
    larkload      imports Lark without the backtracking `regex` module
    privatedir    this user's 0700 cache directory, where the tables and pickles live
"""
