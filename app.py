"""Digit reader: draw digits and let an ensemble of models read them. Routes only."""

import streamlit as st

st.set_page_config(page_title="Digit reader", page_icon=":material/draw:")

pages = [
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/drawings.py", title="Your drawings", icon=":material/photo_library:"),
]
# At the top: the sidebar is left to the model picker, and the links stay one tap away on a phone.
st.navigation(pages, position="top").run()
