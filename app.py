"""Streamlit front door: `streamlit run app.py`. Page setup and navigation only; the pages
live in app_pages/ and everything they compute comes from the `screening` package."""

import streamlit as st

st.set_page_config(
    page_title="Applicant screening", page_icon=":material/fact_check:", layout="wide"
)
st.navigation(
    [
        st.Page("app_pages/screen.py", title="Screen", icon=":material/fact_check:", default=True),
        st.Page("app_pages/applicant.py", title="Applicant", icon=":material/person:"),
        st.Page("app_pages/review_queue.py", title="Review queue", icon=":material/balance:"),
        st.Page("app_pages/spec_view.py", title="Spec", icon=":material/description:"),
        st.Page("app_pages/audit_view.py", title="Audit", icon=":material/policy:"),
    ]
).run()
