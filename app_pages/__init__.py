"""Pages of the Streamlit app (`app.py`); each module is one page, `state` is shared."""
