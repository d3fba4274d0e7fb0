package notices

import (
	"maps"
	"slices"

	"github.com/tempobill/billing"
)

// service is the text of milestone's service notice: staff's replacement
// in overrides (custom), else the built-in one; false if there is neither.
func service(milestone string, overrides map[string]billing.NoticeTemplate) (t billing.NoticeTemplate, custom, ok bool) {
	if t, ok := overrides[milestone]; ok {
		return t, true, true
	}
	t, ok = defaults[milestone]
	return t, false, ok
}

// List returns the text of every service notice, in milestone order:
// staff's replacement in overrides where there is one, else the built-in
// default.
func List(overrides map[string]billing.NoticeTemplate) []billing.NoticeTemplate {
	out := make([]billing.NoticeTemplate, 0, len(defaults))
	for _, m := range slices.Sorted(maps.Keys(defaults)) {
		t, _, _ := service(m, overrides)
		t.Milestone = m
		out = append(out, t)
	}
	return out
}

// Default returns the built-in text of milestone's service notice, or a
// not-found error naming the service notices there are.
func Default(milestone string) (billing.NoticeTemplate, error) {
	t, ok := defaults[milestone]
	if !ok {
		return t, billing.Errorf(billing.ENOTFOUND, "no service notice %q; the notices are %v",
			milestone, slices.Sorted(maps.Keys(defaults)))
	}
	t.Milestone = milestone
	return t, nil
}

// Override returns t as staff's replacement of milestone's text, or why it
// can't be: no such service notice, or invalid fields.
func Override(milestone string, t billing.NoticeTemplate) (billing.NoticeTemplate, error) {
	if _, err := Default(milestone); err != nil {
		return t, err
	}
	if err := t.Validate(); err != nil {
		return t, err
	}
	t.Milestone, t.Custom = milestone, true
	return t, nil
}

// defaults are the built-in texts of the service notices, by milestone.
var defaults = map[string]billing.NoticeTemplate{
	billing.MilestoneActivated: {Subject: "Your service [PAYMENT_NAME] is active",
		Body: "Hello [USER_NAME],\n\nyour service [PAYMENT_NAME] (#[SERVICE_ID]) is active and paid until [PAID_UNTIL].\n" +
			"[PAYMENT_AMOUNT] was charged from your balance, which is now [ACCOUNT_STATE].\n",
		SMSBody: "[PAYMENT_NAME] is active, paid until [PAID_UNTIL]."},
	billing.MilestoneLowMoney: {Subject: "Insufficient funds to renew [PAYMENT_NAME]",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) renews automatically on [DATE_OF_PAYMENT] for [PAYMENT_AMOUNT], " +
			"but your balance is [ACCOUNT_STATE]. Please add funds so that the service is not suspended.\n",
		SMSBody: "Add funds: [PAYMENT_NAME] renews on [DATE_OF_PAYMENT] for [PAYMENT_AMOUNT], balance [ACCOUNT_STATE]."},
	billing.MilestoneExpiring: {Subject: "[PAYMENT_NAME] is going to expire",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) is paid until [PAID_UNTIL] and is not renewed automatically. " +
			"Renew it before then to keep it.\n",
		SMSBody: "[PAYMENT_NAME] expires on [PAID_UNTIL]; renew it to keep it."},
	billing.MilestoneRenewed: {Subject: "[PAYMENT_NAME] was renewed",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) was renewed for [PAYMENT_AMOUNT] and is paid until [PAID_UNTIL]. " +
			"Your balance is [ACCOUNT_STATE].\n"},
	billing.MilestoneSuspended: {Subject: "[PAYMENT_NAME] is suspended",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) is suspended: [SUSPEND_REASON].\n" +
			"It will be deleted on [DELETE_DATE] unless it is paid: [PAYMENT_AMOUNT], your balance is [ACCOUNT_STATE].\n",
		SMSBody: "[PAYMENT_NAME] is suspended: [SUSPEND_REASON]."},
	billing.MilestoneResumed: {Subject: "[PAYMENT_NAME] is active again",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) is active again and paid until [PAID_UNTIL].\n"},
	billing.MilestoneDeleteSoon: {Subject: "[PAYMENT_NAME] will be deleted soon",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) will be deleted on [DELETE_DATE], in [DAYS] days, with its data. " +
			"Pay [PAYMENT_AMOUNT] to keep it; your balance is [ACCOUNT_STATE].\n",
		SMSBody: "[PAYMENT_NAME] will be deleted on [DELETE_DATE]. Pay [PAYMENT_AMOUNT] to keep it."},
	billing.MilestoneDeleted: {Subject: "[PAYMENT_NAME] was deleted",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) was deleted.\n"},
	billing.MilestoneCancelled: {Subject: "[PAYMENT_NAME] was cancelled",
		Body: "Hello [USER_NAME],\n\n[PAYMENT_NAME] (#[SERVICE_ID]) was cancelled.\n"},
	billing.MilestoneOrderExpired: {Subject: "Your order of [PAYMENT_NAME] was cancelled",
		Body: "Hello [USER_NAME],\n\nyour order of [PAYMENT_NAME] (#[SERVICE_ID]) was cancelled: [SUSPEND_REASON]. " +
			"[PAYMENT_AMOUNT] was needed, your balance is [ACCOUNT_STATE]. Nothing was charged; order it again whenever you like.\n"},
}
