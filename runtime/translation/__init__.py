"""Parts of the translator (`sluicegate.translator`), whose builder turns each grammar
alias into Python AST while the parser runs:

    nodes   positioned AST nodes: every node carries the script's line and column
    tasks   the task statements (`invokeurl`, `invokeapi`, `sendmail`) and Creator's form
            statements and form-script commands, mixed into the builder
"""
