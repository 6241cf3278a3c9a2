window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2008117258089410577"
          ],
          "editableUntil" : "2026-01-05T11:03:58.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "34"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "2008101160350658577",
      "id_str" : "2008117258089410577",
      "in_reply_to_user_id" : "3001960000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2008117258089410577",
      "in_reply_to_status_id" : "2008101160350658577",
      "created_at" : "Mon Jan 05 10:03:58 +0000 2026",
      "favorited" : false,
      "full_text" : "Corrections welcome &amp; appreciated.",
      "lang" : "en",
      "in_reply_to_screen_name" : "marin",
      "in_reply_to_user_id_str" : "3001960000"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2008101160350658577"
          ],
          "editableUntil" : "2026-01-05T10:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [
          {
            "url" : "https://t.co/Sc2Post00B",
            "expanded_url" : "https://blog.example/second-post.html",
            "display_url" : "blog.example/second-post.html",
            "indices" : [
              "24",
              "47"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "47"
      ],
      "favorite_count" : "4",
      "id_str" : "2008101160350658577",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2008101160350658577",
      "created_at" : "Mon Jan 05 09:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "New post: A second post https://t.co/Sc2Post00B",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007891080246210577"
          ],
          "editableUntil" : "2026-01-04T20:05:13.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "28"
      ],
      "favorite_count" : "1",
      "id_str" : "2007891080246210577",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2007891080246210577",
      "created_at" : "Sun Jan 04 19:05:13 +0000 2026",
      "favorited" : false,
      "full_text" : "Coffee first, then blogging.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007364472796098577"
          ],
          "editableUntil" : "2026-01-03T09:12:40.000Z",
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
            "name" : "Carol",
            "screen_name" : "carol",
            "indices" : [
              "0",
              "6"
            ],
            "id_str" : "2244994945",
            "id" : "2244994945"
          }
        ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "38"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "2007149892203458577",
      "id_str" : "2007364472796098577",
      "in_reply_to_user_id" : "2244994945",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2007364472796098577",
      "in_reply_to_status_id" : "2007149892203458577",
      "created_at" : "Sat Jan 03 08:12:40 +0000 2026",
      "favorited" : false,
      "full_text" : "@carol Congratulations on the release!",
      "lang" : "en",
      "in_reply_to_screen_name" : "carol",
      "in_reply_to_user_id_str" : "2244994945"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007064336790466577"
          ],
          "editableUntil" : "2026-01-02T13:20:02.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "pelican",
            "indices" : [
              "23",
              "31"
            ]
          }
        ],
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
        "46"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "2007063200134082577",
      "id_str" : "2007064336790466577",
      "in_reply_to_user_id" : "3001960000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2007064336790466577",
      "in_reply_to_status_id" : "2007063200134082577",
      "created_at" : "Fri Jan 02 12:20:02 +0000 2026",
      "favorited" : false,
      "full_text" : "@alice One more thing: #pelican does the rest.",
      "lang" : "en",
      "in_reply_to_screen_name" : "marin",
      "in_reply_to_user_id_str" : "3001960000"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007063200134082577"
          ],
          "editableUntil" : "2026-01-02T13:15:31.000Z",
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
        "urls" : [
          {
            "url" : "https://t.co/Ab12Cd34Ef",
            "expanded_url" : "https://blog.example/hello-world.html#details",
            "display_url" : "blog.example/hello-world.h…",
            "indices" : [
              "22",
              "45"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "119"
      ],
      "favorite_count" : "3",
      "in_reply_to_status_id_str" : "2007044887802818577",
      "id_str" : "2007063200134082577",
      "in_reply_to_user_id" : "1468258371",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "2007063200134082577",
      "in_reply_to_status_id" : "2007044887802818577",
      "created_at" : "Fri Jan 02 12:15:31 +0000 2026",
      "favorited" : false,
      "full_text" : "@alice Thanks &amp; yes 🎉 https://t.co/Ab12Cd34Ef has the details (and no, &lt;script&gt;alert(1)&lt;/script&gt; in a tweet stays text)",
      "lang" : "en",
      "in_reply_to_screen_name" : "alice",
      "in_reply_to_user_id_str" : "1468258371"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007039443596226577"
          ],
          "editableUntil" : "2026-01-02T11:41:07.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "54"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "2007036645995446272",
      "id_str" : "2007039443596226577",
      "in_reply_to_user_id" : "3001960000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2007039443596226577",
      "in_reply_to_status_id" : "2007036645995446272",
      "created_at" : "Fri Jan 02 10:41:07 +0000 2026",
      "favorited" : false,
      "full_text" : "Comments are open on the post too, or just reply here.",
      "lang" : "en",
      "in_reply_to_screen_name" : "marin",
      "in_reply_to_user_id_str" : "3001960000"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2007036645995446272"
          ],
          "editableUntil" : "2026-01-02T11:30:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [
          {
            "url" : "https://t.co/Hw1Post00A",
            "expanded_url" : "https://blog.example/hello-world.html",
            "display_url" : "blog.example/hello-world.html",
            "indices" : [
              "23",
              "46"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "46"
      ],
      "favorite_count" : "12",
      "id_str" : "2007036645995446272",
      "truncated" : false,
      "retweet_count" : "2",
      "id" : "2007036645995446272",
      "created_at" : "Fri Jan 02 10:30:00 +0000 2026",
      "favorited" : false,
      "full_text" : "New post: Hello, world https://t.co/Hw1Post00A",
      "lang" : "en"
    }
  }
]
