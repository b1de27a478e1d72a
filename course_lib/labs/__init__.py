"""One lab module per notebook: the experiment harnesses, widgets and plots specific to that notebook.

A lab is the only kind of module that imports both models and widgets or plots (see CONTRIBUTING.md,
"Layers"). The ideas themselves live in the concept modules and ``course_lib/models``.
"""
