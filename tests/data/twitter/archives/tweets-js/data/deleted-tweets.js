window.YTD.deleted_tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007070000000000001"
          ],
          "editableUntil" : "2026-01-02T13:40:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [
          {
            "name" : "Alice",
            "screen_name" : "alice",
            "indices" : [
              "0",
              "6"
            ],
            "id_str" : "1468258371",
            "id" : "1468258371"
          }
        ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "28"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "2007044887802818577",
      "id_str" : "2007070000000000001",
      "in_reply_to_user_id" : "1468258371",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2007070000000000001",
      "in_reply_to_status_id" : "2007044887802818577",
      "created_at" : "Fri Jan 02 12:40:00 +0000 2026",
      "favorited" : false,
      "full_text" : "@alice (deleted: wrong link)",
      "lang" : "en",
      "in_reply_to_screen_name" : "alice",
      "in_reply_to_user_id_str" : "1468258371",
      "deleted_at" : "Fri Jan 02 12:41:00 +0000 2026"
    }
  }
]
