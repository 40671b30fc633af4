"""What the tests share: paths to ../shared, and the generators of hostile inputs, fault portals and renditions.

    support.shared       ROOT, SHARED, seed_paths(), expected_for()
    support.alerting     a real apprise endpoint on 127.0.0.1 (Recorder) and config/registry writers
    support.faultportal  39 misbehaving portals over real HTTP, and how to judge a crawl of them
    support.hostile      hostile documents and a parser run in a fresh, memory-limited interpreter
    support.renditions   our own renditions of a labelled report in every format
"""
