#!/usr/bin/env python3
"""Writes bitext-mapped.csv: the TRAINING part of the Bitext customer-support sample, mapped
onto Switchboard's 17 intents (the same mapping as `map_bitext_intent` in
workers/src/models/eval/bitext.rs; a test checks they agree).

Rows held out by ../splits/bitext-heldout.txt and their near-copies
(../splits/bitext-excluded.txt) are left out. The data is Bitext's, under
CDLA-Sharing-1.0 (BITEXT-LICENSE.txt beside this file).

Usage: python3 workers/models/train/build_bitext.py ../shared/data
"""
import csv, os, sys

MAPPING = {
    "track_order": "ORDER_STATUS",
    "cancel_order": "CANCELLATION",
    "check_cancellation_fee": "CANCELLATION",
    "place_order": "PRODUCT_INQUIRY",
    "get_refund": "REFUND_STATUS",
    "track_refund": "REFUND_STATUS",
    "check_refund_policy": "GENERAL_INQUIRY",
    "payment_issue": "BILLING_ISSUE",
    "check_payment_methods": "BILLING_ISSUE",
    "check_invoice": "BILLING_ISSUE",
    "get_invoice": "BILLING_ISSUE",
    "delivery_period": "SHIPPING_ESTIMATE",
    "delivery_options": "SHIPPING_ESTIMATE",
    "create_account": "ACCOUNT_HELP",
    "delete_account": "ACCOUNT_HELP",
    "edit_account": "ACCOUNT_HELP",
    "recover_password": "ACCOUNT_HELP",
    "registration_problems": "ACCOUNT_HELP",
    "switch_account": "ACCOUNT_HELP",
    "change_shipping_address": "ACCOUNT_HELP",
    "set_up_shipping_address": "ACCOUNT_HELP",
    "contact_customer_service": "GENERAL_INQUIRY",
    "contact_human_agent": "ESCALATION_REQUEST",
    "complaint": "COMPLAINT",
    "review": "FEEDBACK",
}

def indices(path):
    return {int(l) for l in open(path) if l.strip() and not l.startswith("#")}

def main(data):
    here = os.path.dirname(os.path.abspath(__file__))
    splits = os.path.join(here, "..", "splits")
    skip = indices(os.path.join(splits, "bitext-heldout.txt")) | indices(os.path.join(splits, "bitext-excluded.txt"))
    rows = list(csv.DictReader(open(os.path.join(data, "bitext/bitext_customer_support_sample_6480.csv"), encoding="utf-8")))
    out = []
    seen = set()
    for i, r in enumerate(rows):
        label = MAPPING.get(r["intent"])
        text = " ".join(r["instruction"].split())
        if i in skip or label is None or text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append((text, label))
    with open(os.path.join(here, "bitext-mapped.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(out)
    print(f"{len(out)} training rows written")

main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
