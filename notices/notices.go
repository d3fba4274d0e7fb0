// Package notices renders the messages sent to clients: the built-in texts
// of service notices (which staff can replace) and the variables of seed 002.
package notices

import "github.com/tempobill/billing"

// Defaults are the built-in texts of the service notices, by milestone.
var Defaults = map[string]billing.NoticeTemplate{
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
